"""Pull-through mirrors on the real engine with the real registry (distribution v3.1.2 built by the
forge tier) in proxy mode. The "upstream" is a second real registry holding an image under a Docker
Hub name. A lab whose `mirrors.docker_io` names the mirror gets the image by its upstream name.
The mirror's cache then holds it. `mirror up` is idempotent, and `mirror down --drop-cache` leaves
nothing behind."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gitopslab import cli
from gitopslab.drivers import engine
from gitopslab.drivers.engine import ComposeLab
from gitopslab.stack.mirror import LABEL_KEY
from tests.real.test_offline_bundle import REGISTRY, STAND_IN
from tests.support.compose_lab import docker, free_ports


@pytest.fixture
def upstream(real_forge: list[str]) -> Iterator[str]:
    """A real registry on the default bridge holding `library/tiny:<id>`; yields its URL and the tag."""
    name = f"gl-upstream-{uuid.uuid4().hex[:6]}"
    (port,) = free_ports(1, set())
    docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:5000", REGISTRY)
    tag = uuid.uuid4().hex[:8]
    try:
        ip = json.loads(docker("inspect", name).stdout)[0]["NetworkSettings"]["IPAddress"]
        _wait_v2(f"http://127.0.0.1:{port}/v2/")
        pushed = f"127.0.0.1:{port}/library/tiny:{tag}"
        docker("tag", STAND_IN, pushed)
        docker("push", pushed, timeout=300)
        docker("rmi", pushed)
        yield f"http://{ip}:5000 {tag}"
    finally:
        docker("rm", "-f", name, check=False)


def _wait_v2(url: str) -> None:
    for _ in range(60):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        subprocess.run(["sleep", "0.5"], check=True)
    raise AssertionError(f"{url} did not answer")


def test_a_lab_pulls_through_the_room_mirror_and_the_cache_keeps_it(upstream: str, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    url, tag = upstream.split()
    (port,) = free_ports(1, set())
    wanted = f"docker.io/library/tiny:{tag}"
    try:
        args = ["mirror", "up", "--only", "docker.io", "--port", str(port), "--upstream", f"docker.io={url}"]
        assert cli.main(args) == 0
        out = capsys.readouterr().out
        assert f"docker_io: http://127.0.0.1:{port}" in out and "started" in out
        assert cli.main(args) == 0
        assert "running on port" in capsys.readouterr().out  # the second run changes nothing

        published = json.loads(docker("inspect", "gitopslab-mirror-docker-io").stdout)[0]["HostConfig"]["PortBindings"]
        assert published["5000/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]

        lab = ComposeLab(engine.detect("docker"), "mirrortest", tmp_path / "compose.yaml", tmp_path / "lab.env",
                         mirrors={"docker.io": f"http://127.0.0.1:{port}"})
        lab.require_images({"tiny": wanted})
        assert docker("image", "inspect", wanted).returncode == 0
        catalog = httpx.get(f"http://127.0.0.1:{port}/v2/_catalog", timeout=5).json()
        assert "library/tiny" in catalog["repositories"]
    finally:
        docker("rmi", wanted, f"127.0.0.1:{port}/library/tiny:{tag}", check=False)
        assert cli.main(["mirror", "down", "--drop-cache"]) == 0
    left = docker("ps", "-a", "-q", "--filter", f"label={LABEL_KEY}").stdout.strip()
    volumes = docker("volume", "ls", "-q", "--filter", f"label={LABEL_KEY}").stdout.strip()
    assert left == "" and volumes == ""
