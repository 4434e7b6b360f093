"""hello-api's repository as the lab seeds it: the packaged template (pipelines/hello-api) copied with
this lab's step images, service URLs and the room's mirrors in its pipeline files. Pure: files in,
files out, no program runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gitopslab.model.config import LabConfig
from gitopslab.model.mirrors import host_of, pip_env
from gitopslab.model.topology import Topology
from gitopslab.model.versions import IMAGES
from gitopslab.resources import content_path

# What the pipeline files say by default; render_template swaps in this lab's values.
_DEFAULT_URLS = {
    "http://mlflow.localhost:8090": "mlflow",
    "http://minio.localhost:9090": "minio_api",
    "http://gitea.localhost:3000": "gitea",
    "registry.localhost:5002": "registry",
}
_STEP_ROLES = ("python", "kaniko", "trivy", "alpine-git")
# The PyPI registry of the seeded org (stack/gitea/rbac.ORG) in the lab's own Gitea: offline, `up` fills
# it from the bundle's wheelhouse (stack/gitea/wheels.py).
LAB_PYPI_PATH = "/api/packages/platform/pypi/simple/"


def pip_index(cfg: LabConfig, topo: Topology) -> str:
    """Where every pip of the lab reads packages (hello-api's image build, the CI steps, the first
    model): the room's mirror, or offline the lab's own Gitea; "" is PyPI itself."""
    if cfg.offline:
        return topo.service("gitea").url + LAB_PYPI_PATH
    return cfg.mirrors.pypi


def template_dir() -> Path:
    """pipelines/hello-api, found by gitopslab/resources.py."""
    return content_path("pipelines") / "hello-api"


def render_template(cfg: LabConfig, topo: Topology, dest: Path) -> Path:
    """Copy the template to `dest`; the pipeline files get this lab's step images and service URLs."""
    shutil.copytree(template_dir(), dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "dist", ".ci"))
    urls = {old: (topo.registry if key == "registry" else topo.service(key).url) for old, key in _DEFAULT_URLS.items()}
    for path in sorted((dest / ".woodpecker").glob("*.yaml")):
        text = path.read_text()
        for role in _STEP_ROLES:
            text = text.replace(f"image: {IMAGES[role]}\n", f"image: {cfg.image(role)}\n")
        for old, new in urls.items():
            text = text.replace(old, new)
        text = text.replace(_KANIKO_LAST_SETTING, _KANIKO_LAST_SETTING + kaniko_mirror_settings(cfg, topo))
        path.write_text(text)
    return dest


_KANIKO_LAST_SETTING = "      insecure: true\n"  # the build step's last setting in deliver.yaml


def kaniko_mirror_settings(cfg: LabConfig, topo: Topology) -> str:
    """The room's mirrors for the CI image build, which pulls in kaniko, not the engine: pip's index as
    build args (the Dockerfile's ARGs) and Docker Hub's mirror for the base image (plugin-kaniko 2.3.1:
    `build_args`, `mirrors` -> --registry-mirror, `insecure_registry` for an http mirror)."""
    lines = []
    pip = pip_env(pip_index(cfg, topo))
    if pip:
        lines += ["      build_args:", *(f"        - {json.dumps(f'{k}={v}')}" for k, v in pip.items())]
    hub = cfg.mirrors.registries().get("docker.io")
    if hub:
        lines += ["      mirrors:", f"        - {json.dumps(host_of(hub))}"]
        if hub.startswith("http://"):
            lines.append(f"      insecure_registry: {json.dumps(host_of(hub))}")
    return "".join(f"{line}\n" for line in lines)
