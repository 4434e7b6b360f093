"""A model pin must roll hello-api's pods: kustomize renders the overlay before and after the pin
(the update-gitops step's own edits, through delivery.pin_in_tree) and the pod template must differ,
pointing at a ConfigMap that holds the new pin. app-prd, once `up` pinned its initial model, renders a
valid model environment."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitopslab.lint import shipped_gitops_dir
from gitopslab.lint.loader import find_kubectl
from gitopslab.stack import delivery

SHA = re.compile(r"^[0-9a-f]{64}$")
FIRST = delivery.ModelPin("s3://ml-models/iris-initial.joblib", "ab" * 32)
RETRAINED = delivery.ModelPin("s3://ml-models/iris-1234567-r7.joblib", "cd" * 32)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return Path(shutil.copytree(shipped_gitops_dir(), tmp_path / "gitops"))


def render(tree: Path, overlay: str) -> dict[tuple[str, str], dict[str, Any]]:
    proc = subprocess.run([find_kubectl(), "kustomize", str(tree / overlay)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(proc.stdout) if o}


def pod_template(objs: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    return objs[("Deployment", "hello-api")]["spec"]["template"]


def model_env(objs: dict[tuple[str, str], dict[str, Any]]) -> dict[str, str]:
    """The environment hello-api's container gets from the ConfigMap its envFrom names."""
    [container] = pod_template(objs)["spec"]["containers"]
    [ref] = [e["configMapRef"]["name"] for e in container["envFrom"]]
    return dict(objs[("ConfigMap", ref)]["data"])


def test_a_delivery_pin_changes_the_pod_template(tree: Path) -> None:
    before = render(tree, "clusters/app-dev")
    delivery.pin_in_tree(tree, FIRST, tag="initial")  # same image tag: only the model changes
    after = render(tree, "clusters/app-dev")
    assert pod_template(after) != pod_template(before), "a new model pin would not roll the pods"
    env = model_env(after)
    assert (env["MODEL_OBJECT"], env["MODEL_SHA"]) == (FIRST.model_object, FIRST.model_sha)
    assert env["S3_ENDPOINT_URL"] == "http://minio.ml-dev.svc:9000"


def test_a_retrain_pin_rolls_the_pods_and_keeps_the_image(tree: Path) -> None:
    delivery.pin_in_tree(tree, FIRST, tag="abc1234")
    first = render(tree, "clusters/app-dev")
    delivery.pin_in_tree(tree, RETRAINED, tag=None)  # the cron retrain: no new image
    second = render(tree, "clusters/app-dev")
    assert pod_template(second) != pod_template(first)
    images = {c["image"] for objs in (first, second) for c in pod_template(objs)["spec"]["containers"]}
    assert images == {"registry.localhost:5002/hello-api:abc1234"}
    assert model_env(second)["MODEL_OBJECT"] == RETRAINED.model_object
    # the same pin again renders the same template: no rollout without a change
    delivery.pin_in_tree(tree, RETRAINED, tag=None)
    assert pod_template(render(tree, "clusters/app-dev")) == pod_template(second)


def test_the_pipeline_pin_leaves_app_prd_to_promotion(tree: Path) -> None:
    before = render(tree, "clusters/app-prd")
    delivery.pin_in_tree(tree, FIRST, tag="abc1234")
    assert render(tree, "clusters/app-prd") == before


def test_the_initial_pin_gives_app_prd_a_valid_model(tree: Path) -> None:
    delivery.pin_in_tree(tree, FIRST, tag=delivery.INITIAL_TAG, overlays=delivery.INITIAL_OVERLAYS)
    for overlay in delivery.INITIAL_OVERLAYS:
        objs = render(tree, overlay)
        env = model_env(objs)
        assert env["MODEL_OBJECT"].startswith("s3://ml-models/iris-") and SHA.match(env["MODEL_SHA"]), overlay
        [c] = pod_template(objs)["spec"]["containers"]
        assert c["image"] == "registry.localhost:5002/hello-api:initial"
