"""hello-api's repository as the lab seeds it: the packaged template (pipelines/hello-api) copied with
this lab's step images, service URLs and the room's mirrors in its pipeline files. Pure: files in,
files out, no program runs."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from gitopslab.model.config import LabConfig
from gitopslab.model.mirrors import pip_env, split_ref
from gitopslab.model.topology import Topology
from gitopslab.model.versions import IMAGES
from gitopslab.render.proxy import proxy_env
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
        # The build step's settings first: they are found by the default lab's text.
        if f"image: {IMAGES['kaniko']}\n" in text and not all(a in text for a in (_KANIKO_BASE_ARG, _BUILD_STEP)):
            raise ValueError(f"{path.name}: the build step no longer reads as render/pipelines.py expects "
                             "(BASE_IMAGE build arg, opening comment): change both together")
        text = text.replace(_KANIKO_BASE_ARG, kaniko_build_args(cfg, topo))
        text = text.replace(_KANIKO_LAST_SETTING, _KANIKO_LAST_SETTING + kaniko_proxy_settings(cfg, topo))
        text = text.replace(_BUILD_STEP, build_proxy_step(cfg, topo) + _BUILD_STEP)
        for role in _STEP_ROLES:
            text = text.replace(f"image: {IMAGES[role]}\n", f"image: {cfg.image(role)}\n")
        for old, new in urls.items():
            text = text.replace(old, new)
        text = _CI_STEP_IMAGE.sub(lambda m: m.group(1) + ci_image(cfg, topo, dest), text)
        path.write_text(text)
    return dest


# The python steps that need hello-api's packages run in the lab's CI image (images/hello-api-ci): built
# once by `up` from the `python` pin, not installed from the index on every run (docs/DELIVERY_FLOW.md,
# "Speed"). The shipped files name the plain pin, so the template runs anywhere (common.sh then installs).
CI_STEPS = ("test", "train", "upload")
_CI_STEP_IMAGE = re.compile(r"^(  - name: (?:" + "|".join(CI_STEPS) + r")\n    image: )\S+$", re.MULTILINE)
CI_IMAGE_REPO = "gitopslab/hello-api-ci"
CI_REQUIREMENTS = ("requirements.txt", "requirements-train.txt", "requirements-dev.txt")


def ci_image_dir() -> Path:
    """images/hello-api-ci: the CI image's Dockerfile."""
    return content_path("images") / "hello-api-ci"


def ci_image(cfg: LabConfig, topo: Topology, template: Path | None = None) -> str:
    """The CI image's name in the lab registry, its tag a hash of what it is made of: the base (the
    `python` pin), its Dockerfile and the requirement files of `template` (default: the shipped one).
    A changed pin or requirement names a new image, so a stale one is never used."""
    digest = hashlib.sha256(cfg.image("python").encode() + b"\0")
    for path in (ci_image_dir() / "Dockerfile", *((template or template_dir()) / name for name in CI_REQUIREMENTS)):
        digest.update(path.read_bytes() + b"\0")
    return f"{topo.registry}/{CI_IMAGE_REPO}:{digest.hexdigest()[:16]}"


# In deliver.yaml's build step: its build arg naming the base (the default lab's), its last setting,
# and the comment that opens the step.
_KANIKO_BASE_ARG = "        - BASE_IMAGE=registry.localhost:5002/library/python:3.12-slim-bookworm\n"
_KANIKO_LAST_SETTING = "      insecure_registry: registry.localhost:5002\n"
_BUILD_STEP = "  # Tags come from the .tags file"
# The file the build-proxy step writes and the build step reads (plugin-kaniko's `env_file`); not in
# the image: .dockerignore admits only requirements.txt and app/.
PROXY_ENV_FILE = ".proxy.env"
# The CI image build's proxy URLs (which may hold a login) travel as Woodpecker secrets, never in the
# pipeline file Gitea keeps: variable -> secret name (stack/woodpecker_wire.py creates them).
PROXY_SECRETS = {"HTTP_PROXY": "lab_http_proxy", "HTTPS_PROXY": "lab_https_proxy"}
# What kaniko hands RUN as build args without an ARG line and keeps out of the image's history
# (kaniko 1.27.2 pkg/dockerfile/buildargs.go builtinAllowedBuildArgs).
PROXY_BUILD_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy")


def ci_base_image(cfg: LabConfig, topo: Topology) -> str:
    """Where the CI image build reads hello-api's base: the `python` pin's copy in the lab registry,
    which `up` pushes there (stack/delivery.py, step delivery.image). kaniko fetches a base image from a
    registry, never from the engine's store, so a base on Docker Hub fails offline; the lab registry
    answers online and offline alike. The path is the pin's without its registry; a digest pin gets the
    digest as its tag (a push needs a tag)."""
    _, path = split_ref(cfg.image("python"))
    name, _, digest = path.partition("@")
    if digest:
        if ":" in name.rsplit("/", 1)[-1]:
            name = name.rsplit(":", 1)[0]
        path = f"{name}:{digest.replace(':', '-')}"
    elif ":" not in path.rsplit("/", 1)[-1]:
        path += ":latest"
    return f"{topo.registry}/{path}"


def proxy_secrets(cfg: LabConfig, topo: Topology) -> dict[str, str]:
    """Secret name -> proxy URL, for the proxies this lab has (none without a proxy)."""
    env = proxy_env(cfg, topo)
    return {secret: env[var] for var, secret in PROXY_SECRETS.items() if env.get(var)}


def kaniko_build_args(cfg: LabConfig, topo: Topology) -> str:
    """The build step's `build_args` (plugin-kaniko 2.3.1 plugin.sh: each one a --build-arg, split at
    commas): the base image from the lab registry and pip's index (the Dockerfile's ARGs). The CI build
    pulls in kaniko, not the engine; the step's `insecure_registry` lets it read the lab registry over
    plain HTTP (`insecure` covers only the push)."""
    pip = [json.dumps(f"{k}={v}") for k, v in pip_env(pip_index(cfg, topo)).items()]  # a URL, quoted
    return "".join(f"        - {arg}\n" for arg in [f"BASE_IMAGE={ci_base_image(cfg, topo)}", *pip])


def kaniko_proxy_settings(cfg: LabConfig, topo: Topology) -> str:
    """Behind a proxy, the build step reads the file the build-proxy step writes (`env_file`: exported
    before kaniko runs, so its own downloads use the proxy too) and hands those variables to RUN by name
    (`build_args_from_env`; `build_args` would split NO_PROXY at its commas). "" without a proxy."""
    if not proxy_env(cfg, topo):
        return ""
    lines = [f"      env_file: {PROXY_ENV_FILE}", "      build_args_from_env:",
             *(f"        - {name}" for name in PROXY_BUILD_ARGS)]
    return "".join(f"{line}\n" for line in lines)


def build_proxy_step(cfg: LabConfig, topo: Topology) -> str:
    """Behind a proxy, the step before the build: it writes the proxy variables, the URLs from their
    Woodpecker secrets, into PROXY_ENV_FILE (scripts/ci/proxy-env.sh). kaniko hands RUN no variable of
    its own environment, only build args; a plugin step may not have `environment:` (Woodpecker's
    pipeline schema), and WOODPECKER_ENVIRONMENT would split NO_PROXY at its commas. "" without a proxy."""
    env = proxy_env(cfg, topo)
    if not env:
        return ""
    lines = ["  # The lab's proxy for the build's RUN steps (pip): written to a file the build step reads,",
             "  # from Woodpecker secrets (a proxy login never enters this repository).",
             "  - name: build-proxy", f"    image: {cfg.image('python')}", "    environment:"]
    for var, secret in PROXY_SECRETS.items():
        if env.get(var):
            lines += [f"      {var}:", f"        from_secret: {secret}"]
    lines += [f"      NO_PROXY: {json.dumps(env['NO_PROXY'])}", f"      PROXY_ENV_FILE: {PROXY_ENV_FILE}",
              "    commands:", "      - sh scripts/ci/proxy-env.sh", ""]
    return "".join(f"{line}\n" for line in lines)
