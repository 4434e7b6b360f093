"""`up`'s image work for the delivery flow, on the real engine and a real registry.

Issue 22.4: `up` pushes the `python` pin into the lab registry under the name the CI build step reads
its base from (kaniko fetches a base only from a registry; offline, Docker Hub is out of reach).
Issue 22.7: behind a proxy, `up`'s own build hands the proxy to RUN (the engine's built-in proxy build
args), with every value in the CLI's environment: a proxy login in argv is readable by every local user."""

from __future__ import annotations

import logging
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render.pipelines import render_template
from gitopslab.render.proxy import no_proxy, proxy_env
from gitopslab.stack import delivery
from tests.support import services

pytestmark = [pytest.mark.engine, pytest.mark.timeout(600)]

PROXY = "http://alice:s3cret@proxy.corp:3128"


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=300)


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[services.Proc]:
    with services.registry(tmp_path) as reg:
        yield reg


def test_up_pushes_the_ci_builds_base_where_the_pipeline_reads_it(base_image: str, registry: services.Proc,
                                                                  tmp_path: Path) -> None:
    port = int(registry.url.rsplit(":", 1)[1])
    # `localhost` (loopback everywhere, and a registry the engine reaches over plain HTTP) stands in for
    # registry.localhost, which this machine's resolver does not map; offline, as a classroom runs.
    cfg = LabConfig(offline=True, hostnames={"registry": "localhost"}, ports={"registry": port},
                    images={"python": base_image})
    topo = build(cfg)
    ref = delivery.push_ci_base(cfg, topo)
    steps = yaml.safe_load((render_template(cfg, topo, tmp_path / "hello-api") / ".woodpecker" / "deliver.yaml")
                           .read_text())["steps"]
    settings = next(s for s in steps if s["name"] == "build")["settings"]
    assert f"BASE_IMAGE={ref}" in settings["build_args"] and settings["insecure_registry"] == f"localhost:{port}"
    # The registry serves it by that name, as kaniko asks for it (distribution API, by tag).
    repo, _, tag = ref.split("/", 1)[1].partition(":")
    answer = httpx.get(f"{registry.url}/v2/{repo}/manifests/{tag}", timeout=10, headers={
        "Accept": "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"})
    assert answer.status_code == 200, answer.text
    local = docker("image", "inspect", "--format", "{{.Id}}", base_image).stdout.strip()
    docker("rmi", ref)
    docker("pull", ref)
    try:
        assert docker("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip() == local
    finally:
        docker("rmi", ref, check=False)


def test_ups_build_hands_the_proxy_to_run_and_keeps_the_login_out_of_argv(
        base_image: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = LabConfig(proxy={"http_proxy": PROXY, "https_proxy": PROXY})
    topo = build(cfg)
    context = tmp_path / "build"
    context.mkdir()
    # No ARG line for the proxy: the engine's built-in proxy build args reach RUN without one.
    (context / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
                                        "RUN env | grep -i '_proxy=' | sort > /proxy.txt\n")
    ref = f"gitopslab-proxy-build-{uuid.uuid4().hex[:8]}:test"
    caplog.set_level(logging.DEBUG, logger="gitopslab.drivers.proc")
    try:
        delivery.build_image(ref, base_image=base_image, context=context, cfg=cfg, index_url="",
                             proxy=proxy_env(cfg, topo))
        seen = docker("run", "--rm", ref, "cat", "/proxy.txt").stdout.splitlines()
        history = docker("history", "--no-trunc", ref).stdout
    finally:
        docker("rmi", "-f", ref, check=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        assert f"{name}={PROXY}" in seen, seen
    assert f"NO_PROXY={no_proxy(cfg, topo)}" in seen and f"no_proxy={no_proxy(cfg, topo)}" in seen
    commands = [r.getMessage() for r in caplog.records if r.getMessage().startswith("run: docker build")]
    assert len(commands) == 1 and "--build-arg HTTP_PROXY " in commands[0], commands
    assert "s3cret" not in commands[0] and "proxy.corp" not in commands[0]
    assert "s3cret" not in history  # built-in proxy args stay out of the image's history
