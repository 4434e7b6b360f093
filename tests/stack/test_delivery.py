"""gitopslab.stack.delivery without the engine: the rendered template and the local GitOps pin."""

from __future__ import annotations

from pathlib import Path

import yaml

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.model.versions import IMAGES
from gitopslab.render.pipelines import ci_image, render_template, template_dir
from gitopslab.stack import delivery
from tests.pipelines.conftest import CONFIGMAP, KUSTOMIZATION


def test_rendered_pipelines_follow_the_labs_ports_and_image_overrides(tmp_path: Path) -> None:
    cfg = LabConfig(ports={"mlflow": 18090, "gitea": 13000}, images={"trivy": "mirror.example/trivy:0.67.2"})
    topo = build(cfg)
    dest = render_template(cfg, topo, tmp_path / "hello-api")
    deliver = yaml.safe_load((dest / ".woodpecker" / "deliver.yaml").read_text())
    steps = {s["name"]: s for s in deliver["steps"]}
    assert steps["train"]["environment"]["MLFLOW_TRACKING_URI"] == "http://mlflow.localhost:18090"
    assert steps["update-gitops"]["environment"]["GITOPS_REPO"] == "http://gitea.localhost:13000/platform/gitops.git"
    assert steps["scan"]["image"] == "mirror.example/trivy:0.67.2"
    assert steps["build"]["image"] == IMAGES["kaniko"]
    assert (dest / "Dockerfile").is_file() and (dest / "scripts" / "ci" / "train.sh").is_file()
    assert not list(dest.rglob("__pycache__"))


def test_default_lab_renders_the_template_unchanged_but_for_the_ci_image(tmp_path: Path) -> None:
    cfg = LabConfig()
    dest = render_template(cfg, build(cfg), tmp_path / "hello-api")
    ci = ci_image(cfg, build(cfg))
    for path in (template_dir() / ".woodpecker").glob("*.yaml"):
        rendered = (dest / ".woodpecker" / path.name).read_text()
        assert ci in rendered and rendered.replace(ci, IMAGES["python"]) == path.read_text()
    assert delivery.image_ref(build(cfg)) == "registry.localhost:5002/hello-api:initial"


def test_pin_in_tree_edits_only_the_contract_fields(tmp_path: Path) -> None:
    overlay = tmp_path / "clusters" / "app-dev"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text(KUSTOMIZATION)
    (overlay / "model-configmap.yaml").write_text(CONFIGMAP)
    pin = delivery.ModelPin("s3://ml-models/iris-initial.joblib", "ab" * 32)
    delivery.pin_in_tree(tmp_path, pin, tag="initial")
    assert (overlay / "kustomization.yaml").read_text() == KUSTOMIZATION
    assert (overlay / "model-configmap.yaml").read_text() == CONFIGMAP.replace("0" * 64, "ab" * 32)
