"""The CI image build step (kaniko, plugin-kaniko 2.3.1) as render_template writes it for a lab.

Issue 22.4: kaniko fetches the base image from a registry, never from the engine's store; the step
names the `python` pin's copy in the lab registry (`up` pushes it there), online and offline alike.
Issue 22.7: behind a proxy, kaniko hands RUN only build args; a build-proxy step writes the proxy
(URLs from Woodpecker secrets) into a file the build step reads (`env_file`) and names as build args
(`build_args_from_env`; `build_args` would split NO_PROXY at its commas)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render.pipelines import PROXY_ENV_FILE, ci_base_image, proxy_secrets, render_template
from gitopslab.render.proxy import no_proxy

PROXY = "http://alice:s3cret@proxy.corp:3128"
PROXY_NAMES = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"]


def _deliver(cfg: LabConfig, dest: Path, contracts_dir: Path) -> dict[str, Any]:
    rendered = render_template(cfg, build(cfg), dest)
    deliver = yaml.safe_load((rendered / ".woodpecker" / "deliver.yaml").read_text())
    jsonschema.validate(deliver, json.loads((contracts_dir / "woodpecker-pipeline.schema.json").read_text()))
    return deliver


def _steps(deliver: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in deliver["steps"]}


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline"])
def test_the_ci_build_reads_its_base_from_the_lab_registry(tmp_path: Path, contracts_dir: Path,
                                                          offline: bool) -> None:
    cfg = LabConfig(offline=offline)
    settings = _steps(_deliver(cfg, tmp_path / "hello-api", contracts_dir))["build"]["settings"]
    base = "registry.localhost:5002/library/python:3.12-slim-bookworm"
    assert ci_base_image(cfg, build(cfg)) == base
    assert settings["build_args"][0] == f"BASE_IMAGE={base}"
    # kaniko pulls over plain HTTP only from a registry named insecure (`insecure` is the push's).
    assert settings["insecure_registry"] == "registry.localhost:5002" and settings["insecure"] is True
    assert "mirrors" not in settings  # nothing of the build comes from Docker Hub any more
    dockerfile = (tmp_path / "hello-api" / "Dockerfile").read_text().splitlines()
    assert "FROM ${BASE_IMAGE}" in dockerfile and any(line.startswith("ARG BASE_IMAGE") for line in dockerfile)


def test_the_lab_registry_copy_follows_the_lab_and_the_pin(tmp_path: Path) -> None:
    cfg = LabConfig(hostnames={"registry": "localhost"}, ports={"registry": 5999},
                    images={"python": "mirror.example/team/python@sha256:" + "a" * 64})
    assert ci_base_image(cfg, build(cfg)) == "localhost:5999/team/python:sha256-" + "a" * 64
    tagged = LabConfig(images={"python": "python:3.12.9-slim"})
    assert ci_base_image(tagged, build(tagged)) == "registry.localhost:5002/library/python:3.12.9-slim"


def test_behind_a_proxy_the_build_gets_it_through_a_file_from_secrets(tmp_path: Path, contracts_dir: Path) -> None:
    cfg = LabConfig(proxy={"http_proxy": PROXY, "https_proxy": PROXY})
    topo = build(cfg)
    steps = _steps(_deliver(cfg, tmp_path / "hello-api", contracts_dir))
    assert list(steps) == ["test", "train", "upload", "build-proxy", "build", "digest", "scan", "update-gitops"]
    writer, kaniko = steps["build-proxy"], steps["build"]
    assert writer["commands"] == ["sh scripts/ci/proxy-env.sh"]
    assert writer["environment"] == {"HTTP_PROXY": {"from_secret": "lab_http_proxy"},
                                     "HTTPS_PROXY": {"from_secret": "lab_https_proxy"},
                                     "NO_PROXY": no_proxy(cfg, topo), "PROXY_ENV_FILE": PROXY_ENV_FILE}
    assert "environment" not in kaniko  # Woodpecker's schema forbids it on a plugin step
    assert kaniko["settings"]["env_file"] == PROXY_ENV_FILE
    assert kaniko["settings"]["build_args_from_env"] == PROXY_NAMES
    assert proxy_secrets(cfg, topo) == {"lab_http_proxy": PROXY, "lab_https_proxy": PROXY}
    # The login goes to Woodpecker's secret store, never into the repo Gitea keeps.
    rendered = tmp_path / "hello-api"
    assert not [p for p in rendered.rglob("*") if p.is_file() and "s3cret" in p.read_text(errors="replace")]
    # .dockerignore admits only requirements.txt and app/: the file stays out of the image.
    assert (rendered / ".dockerignore").read_text().splitlines()[0] == "*"


def test_without_a_proxy_there_is_no_build_proxy_step(tmp_path: Path, contracts_dir: Path) -> None:
    cfg = LabConfig()
    steps = _steps(_deliver(cfg, tmp_path / "hello-api", contracts_dir))
    assert "build-proxy" not in steps
    assert not {"env_file", "build_args_from_env"} & set(steps["build"]["settings"])
    assert proxy_secrets(cfg, build(cfg)) == {}
