"""`mirrors:` in the configuration: which reference a room mirror serves an image under, the k3s
registries.yaml the nodes get (valid for k3d's schema), pip's index for CI steps, `up`'s own steps and
the hello-api build, and bad values refused with the setting named."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from gitopslab.errors import ConfigError
from gitopslab.model.config import LabConfig, load_config
from gitopslab.model.mirrors import mirror_ref, pip_env, split_ref
from gitopslab.model.topology import build
from gitopslab.render import compose_env
from gitopslab.render import k3d as k3d_render
from gitopslab.render.pipelines import template_dir
from gitopslab.stack.delivery import build_args

ROOM = {"docker_io": "http://192.168.1.10:5101", "ghcr_io": "http://192.168.1.10:5103",
        "pypi": "http://192.168.1.10:3141/root/pypi/+simple/"}


@pytest.mark.parametrize("ref, registry, path, via", [
    ("registry:3.1.2", "docker.io", "library/registry:3.1.2", "192.168.1.10:5101/library/registry:3.1.2"),
    ("docker.io/gitea/gitea:1.26.4", "docker.io", "gitea/gitea:1.26.4", "192.168.1.10:5101/gitea/gitea:1.26.4"),
    ("ghcr.io/mlflow/mlflow:v3.17.2-full", "ghcr.io", "mlflow/mlflow:v3.17.2-full",
     "192.168.1.10:5103/mlflow/mlflow:v3.17.2-full"),
    ("quay.io/argoproj/argocd:v3.6.1", "quay.io", "argoproj/argocd:v3.6.1", None),  # no quay.io mirror set
    ("registry.localhost:5002/hello-api:initial", "registry.localhost:5002", "hello-api:initial", None),
])
def test_a_mirror_serves_an_image_under_the_upstream_path(ref: str, registry: str, path: str, via: str | None) -> None:
    mirrors = LabConfig(mirrors=ROOM).mirrors.registries()
    assert split_ref(ref) == (registry, path)
    assert mirror_ref(ref, mirrors) == via


def test_the_nodes_pull_each_upstream_through_its_mirror(contracts_dir: Path) -> None:
    k3d_schema = json.loads((contracts_dir / "k3d-config.schema.json").read_text())
    cfg = LabConfig(mirrors=ROOM)
    doc = yaml.safe_load(k3d_render.render_config(cfg, build(cfg)))
    jsonschema.Draft7Validator(k3d_schema).validate(doc)
    mirrors = yaml.safe_load(doc["registries"]["config"])["mirrors"]
    assert mirrors["docker.io"] == {"endpoint": ["http://192.168.1.10:5101"]}
    assert mirrors["ghcr.io"] == {"endpoint": ["http://192.168.1.10:5103"]}
    assert "quay.io" not in mirrors and "pypi" not in mirrors
    assert build(cfg).registry in mirrors  # the lab registry stays


def test_pip_uses_the_room_index_in_ci_steps_up_s_steps_and_the_image_build() -> None:
    cfg = LabConfig(mirrors=ROOM)
    expected = {"PIP_INDEX_URL": ROOM["pypi"], "PIP_TRUSTED_HOST": "192.168.1.10"}
    assert pip_env(ROOM["pypi"]) == expected
    steps = compose_env.values(cfg, build(cfg))["WOODPECKER_ENVIRONMENT"]
    assert f"PIP_INDEX_URL:{ROOM['pypi']}" in steps.split(",") and "PIP_TRUSTED_HOST:192.168.1.10" in steps.split(",")
    assert build_args(cfg).items() >= expected.items()
    declared = set(re.findall(r"^ARG (\w+)", (template_dir() / "Dockerfile").read_text(), re.MULTILINE))
    assert set(expected) <= declared  # an undeclared build arg would never reach pip
    plain = LabConfig()
    assert "PIP_INDEX_URL" not in compose_env.values(plain, build(plain))["WOODPECKER_ENVIRONMENT"]
    assert "PIP_INDEX_URL" not in build_args(plain)
    assert pip_env("https://pypi.corp/simple") == {"PIP_INDEX_URL": "https://pypi.corp/simple"}


@pytest.mark.parametrize("value", ["192.168.1.10:5101", "http://user:pw@host:5101", "http://host:5101 x", "ftp://h"])
def test_a_bad_mirror_is_refused_with_the_setting_named(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(None, environ={"GITOPSLAB_MIRRORS__DOCKER_IO": value})
    assert "mirrors.docker_io" in str(raised.value) and "http://192.168.1.10:5101" in str(raised.value)


def test_the_agent_brings_every_image_the_rendered_pipelines_run(tmp_path: Path) -> None:
    """Woodpecker's agent pulls a step's image from upstream at the first push unless it is there: the
    compose step that starts the agent requires every step image and the clone plugin, so they come
    through the room's mirror (with progress) or, offline, from the bundle (named when missing)."""
    from gitopslab.context import Context
    from gitopslab.offline.images import container_images
    from gitopslab.render.pipelines import ci_image, render_template
    from gitopslab.stack import compose_layer

    cfg = LabConfig(mirrors=ROOM, images={"trivy": "mirror.example/aquasec/trivy:0.74.0"})
    rendered = render_template(cfg, build(cfg), tmp_path / "hello-api")
    steps = {image for path in (rendered / ".woodpecker").glob("*.yaml")
             for image in container_images(path.read_text(encoding="utf-8"))}
    assert "mirror.example/aquasec/trivy:0.74.0" in steps  # the lab's own overrides count
    required = set(compose_layer.service_images(Context.from_config(cfg), compose_layer.WOODPECKER).values())
    # The CI image of the python steps is built by `up` (delivery.image), never pulled.
    steps.discard(ci_image(cfg, build(cfg)))
    assert steps | {cfg.image("clone"), cfg.image("python")} <= required


def test_the_ci_image_build_gets_pips_index_and_its_base_from_the_lab_registry(tmp_path: Path,
                                                                               contracts_dir: Path) -> None:
    """kaniko pulls the base image and runs pip inside the build step, not through the engine:
    plugin-kaniko 2.3.1 turns `build_args` into --build-arg and `insecure_registry` into
    --insecure-registry (its plugin.sh). The base comes from the lab registry (issue 22.4,
    tests/render/test_ci_build.py), so Docker Hub's mirror has no part in it."""
    from gitopslab.render.pipelines import render_template

    schema = json.loads((contracts_dir / "woodpecker-pipeline.schema.json").read_text())
    cfg = LabConfig(mirrors=ROOM)
    rendered = render_template(cfg, build(cfg), tmp_path / "room")
    deliver = yaml.safe_load((rendered / ".woodpecker" / "deliver.yaml").read_text())
    jsonschema.validate(deliver, schema)
    settings = {s["name"]: s for s in deliver["steps"]}["build"]["settings"]
    base = "BASE_IMAGE=registry.localhost:5002/library/python:3.12-slim-bookworm"
    assert settings["build_args"] == [base, f"PIP_INDEX_URL={ROOM['pypi']}", "PIP_TRUSTED_HOST=192.168.1.10"]
    assert "mirrors" not in settings and settings["insecure_registry"] == "registry.localhost:5002"
    plain = LabConfig()
    rendered = render_template(plain, build(plain), tmp_path / "plain")
    settings = {s["name"]: s for s in yaml.safe_load((rendered / ".woodpecker" / "deliver.yaml").read_text())["steps"]}
    assert settings["build"]["settings"]["build_args"] == [base]


def test_offline_ci_scans_without_the_vulnerability_db() -> None:
    """Bundles do not carry trivy's DB: offline, every step gets SCAN_OFFLINE=1 (scan.sh then scans
    secrets and misconfigurations only and says so)."""
    offline = LabConfig(offline=True)
    assert "SCAN_OFFLINE:1" in compose_env.values(offline, build(offline))["WOODPECKER_ENVIRONMENT"].split(",")
    online = LabConfig()
    assert "SCAN_OFFLINE" not in compose_env.values(online, build(online))["WOODPECKER_ENVIRONMENT"]
