"""The rendered CI build step through plugin-kaniko 2.3.1's own plugin.sh (from its pinned source
archive), in busybox as the plugin image runs it, with the kaniko executor stood in by a script that
prints what it was given: the settings Woodpecker hands the plugin (PLUGIN_<NAME>, lists joined with
commas) become kaniko's arguments as the lab needs them.

Issue 22.4: the base image named by a build arg, from the lab registry, pulled over plain HTTP.
Issue 22.7: behind a proxy, the file the real build-proxy step writes is exported (kaniko's own pulls)
and every proxy variable, NO_PROXY's commas included, reaches kaniko as a build arg, which kaniko hands
to RUN (kaniko 1.27.2 pkg/dockerfile/buildargs.go builtinAllowedBuildArgs)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.model.versions import SOURCE_ARCHIVES
from gitopslab.render.pipelines import proxy_secrets, render_template
from gitopslab.render.proxy import no_proxy
from tests.conftest import REPO, need

pytestmark = [pytest.mark.engine, pytest.mark.timeout(300)]

PROXY = "http://alice:s3cret@proxy.corp:3128"
STUB = """#!/bin/sh
for arg in "$@"; do printf 'ARG %s\\n' "$arg"; done
printf 'ENV HTTP_PROXY=%s\\n' "${HTTP_PROXY:-}"
printf 'ENV NO_PROXY=%s\\n' "${NO_PROXY:-}"
"""


def _plugin_sh(dest: Path) -> Path:
    pin = SOURCE_ARCHIVES["plugin-kaniko"]
    archive = REPO.parent / "shared" / "upstream" / pin.file
    need(archive.is_file(), f"{archive} (plugin-kaniko's source archive) is missing")
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == pin.sha256
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/plugin.sh"))
        data = tar.extractfile(member)
        assert data is not None
        (dest / "plugin.sh").write_bytes(data.read())
    return dest / "plugin.sh"


def _plugin_env(settings: dict[str, Any]) -> dict[str, str]:
    """Woodpecker's settings -> environment for a plugin: PLUGIN_<NAME>, a list joined with commas."""
    def text(value: Any) -> str:
        if isinstance(value, list):
            return ",".join(text(v) for v in value)
        return json.dumps(value) if isinstance(value, bool) else str(value)
    return {f"PLUGIN_{key.upper()}": text(value) for key, value in settings.items()}


def _steps(cfg: LabConfig, dest: Path) -> dict[str, dict[str, Any]]:
    rendered = render_template(cfg, build(cfg), dest)
    return {s["name"]: s for s in yaml.safe_load((rendered / ".woodpecker" / "deliver.yaml").read_text())["steps"]}


def _run_plugin(busybox_image: str, tmp: Path, workspace: Path, settings: dict[str, Any]) -> list[str]:
    kaniko = tmp / "kaniko"
    kaniko.mkdir()
    (kaniko / "executor").write_text(STUB)
    (kaniko / "executor").chmod(0o755)
    plugin = _plugin_sh(tmp)
    env_file = tmp / "plugin.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in _plugin_env(settings).items()))
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", "--env-file", str(env_file),
                           "-v", f"{kaniko}:/kaniko:ro", "-v", f"{plugin}:/plugin.sh:ro",
                           "-v", f"{workspace}:/woodpecker/src", "-w", "/woodpecker/src",
                           busybox_image, "sh", "/plugin.sh"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def _build_args(lines: list[str]) -> dict[str, str]:
    args = [line.removeprefix("ARG ") for line in lines if line.startswith("ARG ")]
    pairs = [args[i + 1] for i, arg in enumerate(args) if arg == "--build-arg"]
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_build_reads_the_base_from_the_lab_registry_over_http(busybox_image: str, tmp_path: Path) -> None:
    cfg = LabConfig(offline=True)
    settings = _steps(cfg, tmp_path / "hello-api")["build"]["settings"]
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / ".tags").write_text("abc1234\n")
    lines = _run_plugin(busybox_image, tmp_path, workspace, settings)
    assert _build_args(lines)["BASE_IMAGE"] == "registry.localhost:5002/library/python:3.12-slim-bookworm"
    args = [line.removeprefix("ARG ") for line in lines if line.startswith("ARG ")]
    assert "--insecure-registry=registry.localhost:5002" in args and "--insecure=true" in args
    assert "--destination=registry.localhost:5002/hello-api:abc1234" in args
    assert not [a for a in args if a.startswith("--registry-mirror=") and a != "--registry-mirror="]


def test_behind_a_proxy_kaniko_gets_every_proxy_variable_intact(busybox_image: str, tmp_path: Path) -> None:
    cfg = LabConfig(proxy={"http_proxy": PROXY, "https_proxy": PROXY})
    topo = build(cfg)
    steps = _steps(cfg, tmp_path / "hello-api")
    workspace = tmp_path / "ws"
    (tmp_path / "hello-api").rename(workspace)
    # The real build-proxy step, its secrets given as Woodpecker gives them (by value, in the environment).
    secrets = proxy_secrets(cfg, topo)
    env = {k: secrets[v["from_secret"]] if isinstance(v, dict) else str(v)
           for k, v in steps["build-proxy"]["environment"].items()}
    (command,) = steps["build-proxy"]["commands"]
    done = subprocess.run(command.split(), cwd=workspace, env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    written = workspace / ".proxy.env"
    assert written.stat().st_mode & 0o777 == 0o600
    assert "s3cret" not in done.stdout + done.stderr
    lines = _run_plugin(busybox_image, tmp_path, workspace, steps["build"]["settings"])
    args = _build_args(lines)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        assert args[name] == PROXY, name
    assert args["NO_PROXY"] == args["no_proxy"] == no_proxy(cfg, topo)  # its commas survived
    assert "registry.localhost" in args["NO_PROXY"].split(",")  # the push to the lab registry bypasses it
    # Exported before kaniko runs: its own pulls and pushes use the proxy and its exceptions.
    assert f"ENV HTTP_PROXY={PROXY}" in lines and f"ENV NO_PROXY={no_proxy(cfg, topo)}" in lines
