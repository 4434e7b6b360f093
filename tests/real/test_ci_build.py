"""The CI build step with the real kaniko (plugin-kaniko 2.3.1 on the kaniko fork's executor, both from
their source archives) against the lab's real registry, started as Woodpecker's docker backend starts a
step: the workspace mounted, on the lab network, a plugin's settings as PLUGIN_<NAME> variables.

The lab is offline and behind a proxy that refuses every connection (127.0.0.1:9 in the step's own
network namespace), so anything not on the lab's NO_PROXY list cannot be reached.
Issue 22.4: kaniko reads the base image from the lab registry, where `up` pushed the python pin (before,
it asked Docker Hub and failed). Issue 22.7: the build's RUN sees the proxy, NO_PROXY whole, from the
file the real build-proxy step writes out of the proxy secrets; the login stays out of the image."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitopslab.model.config import Proxy
from gitopslab.model.topology import build
from gitopslab.render.pipelines import proxy_secrets, render_template, template_dir
from gitopslab.render.proxy import no_proxy
from gitopslab.stack import delivery
from tests.real.conftest import ForgeLab

pytestmark = [pytest.mark.engine, pytest.mark.timeout(900)]

DEAD_PROXY = "http://alice:s3cret@127.0.0.1:9"
# A stand-in for hello-api's Dockerfile (no PyPI here): its own base image argument and FROM, then a RUN
# that records the proxy variables it gets.
_BASE = [line for line in (template_dir() / "Dockerfile").read_text().splitlines()
         if line.startswith(("ARG BASE_IMAGE", "FROM "))]
DOCKERFILE = "\n".join([*_BASE, "RUN env | grep -i '_proxy=' | sort > /proxy.txt", ""])


def docker(*args: str, timeout: int = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


def _plugin_env(settings: dict[str, Any]) -> str:
    """Woodpecker's settings -> a plugin's environment: PLUGIN_<NAME>, a list joined with commas."""
    def text(value: Any) -> str:
        if isinstance(value, list):
            return ",".join(text(v) for v in value)
        return json.dumps(value) if isinstance(value, bool) else str(value)
    return "".join(f"PLUGIN_{key.upper()}={text(value)}\n" for key, value in settings.items())


def _run(lab: ForgeLab, workspace: Path, options: list[str], image: str, *args: str) -> subprocess.CompletedProcess[str]:
    return docker("run", "--rm", "--network", lab.ctx.topo.network, "-v", f"{workspace}:/woodpecker/src",
                  "-w", "/woodpecker/src", *options, image, *args, timeout=600, check=False)


def test_kaniko_builds_offline_on_the_lab_registrys_base_with_the_proxy_in_run(forge_lab: ForgeLab,
                                                                               tmp_path: Path) -> None:
    cfg = forge_lab.ctx.cfg.model_copy(update={"offline": True,
                                               "proxy": Proxy(http_proxy=DEAD_PROXY, https_proxy=DEAD_PROXY)})
    topo = forge_lab.ctx.topo
    registry = topo.service("registry")
    # `up`'s push of the base; from the host the lab registry is `localhost:<port>` (this machine does
    # not resolve registry.localhost): the same registry and repository the pipeline names.
    host_cfg = cfg.model_copy(update={"hostnames": cfg.hostnames.model_copy(update={"registry": "localhost"})})
    delivery.push_ci_base(host_cfg, build(host_cfg))

    workspace = render_template(cfg, topo, tmp_path / "ws")
    (workspace / "Dockerfile").write_text(DOCKERFILE)
    (workspace / ".tags").write_text("abc1234\n")
    workspace.chmod(0o777)
    steps = {s["name"]: s for s in yaml.safe_load((workspace / ".woodpecker" / "deliver.yaml").read_text())["steps"]}

    secrets = proxy_secrets(cfg, topo)
    writer = steps["build-proxy"]
    flags = [f for key, value in writer["environment"].items() for f in (
        "-e", f"{key}={secrets[value['from_secret']] if isinstance(value, dict) else value}")]
    done = _run(forge_lab, workspace, [*flags, "--entrypoint", "sh"], writer["image"], "-c",
                " && ".join(writer["commands"]))
    assert done.returncode == 0, done.stdout + done.stderr

    kaniko = steps["build"]
    plugin_env = tmp_path / "plugin.env"
    plugin_env.write_text(_plugin_env(kaniko["settings"]))
    done = _run(forge_lab, workspace, ["--env-file", str(plugin_env)], kaniko["image"])
    assert done.returncode == 0, f"kaniko failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"

    ref = f"127.0.0.1:{registry.port}/hello-api:abc1234"
    docker("pull", ref)
    try:
        seen = docker("run", "--rm", ref, "cat", "/proxy.txt").stdout.splitlines()
        history = docker("history", "--no-trunc", ref).stdout
    finally:
        docker("rmi", ref, check=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        assert f"{name}={DEAD_PROXY}" in seen, seen
    assert f"NO_PROXY={no_proxy(cfg, topo)}" in seen and f"no_proxy={no_proxy(cfg, topo)}" in seen
    assert "s3cret" not in history
