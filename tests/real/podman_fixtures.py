"""The forge tier on a real Podman (Debian's 4.3, rootful, `podman system service` serving the
Docker-compatible API on /run/podman/podman.sock), started by scripts/podman-up.sh from scripts/test.sh.

Podman keeps its own image storage: the images a test needs are copied from Docker (`docker save |
podman load`), skipped when Podman already holds the same image id, so a warm CI run copies nothing.

CONTAINERS_CONF (written by scripts/podman-up.sh) is this sandbox's, not the product's: the test machine
refuses Podman's default rlimits unless nofile/nproc lie within its hard limits.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitopslab.context import Context
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.state import LabState
from tests.conftest import need
from tests.real.conftest import ForgeLab
from tests.support.compose_lab import (
    force_cleanup,
    lab_objects,
    lab_settings,
    remove_lab,
    used_subnets,
    write_config,
)

SOCKET = os.environ.get("GITOPSLAB_PODMAN_SOCKET", "/run/podman/podman.sock")
CONF = os.environ.get("CONTAINERS_CONF", "/run/podman/containers.conf")


def podman(*args: str, check: bool = True, timeout: float = 300,
           stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check, timeout=timeout,
                          stdin=stdin)


@pytest.fixture(scope="session")
def podman_engine() -> Iterator[str]:
    """Podman's API service answers; the podman CLI reads the sandbox's containers.conf."""
    need(shutil.which("podman") is not None, "podman is not installed (scripts/test.sh installs it)")
    # Started (and stopped by PID) by scripts/test.sh; a test never leaves a service of its own behind.
    need(Path(SOCKET).exists(), f"Podman's API socket {SOCKET} is not there: run scripts/podman-up.sh {SOCKET} "
                                f"{CONF} (scripts/test.sh does)")
    before = os.environ.get("CONTAINERS_CONF")
    os.environ["CONTAINERS_CONF"] = CONF
    try:
        yield SOCKET
    finally:
        if before is None:
            os.environ.pop("CONTAINERS_CONF", None)
        else:
            os.environ["CONTAINERS_CONF"] = before


def _image_id(cli: str, image: str) -> str:
    done = subprocess.run([cli, "image", "inspect", "--format", "{{.Id}}", image], capture_output=True, text=True,
                          timeout=60)
    return done.stdout.strip().removeprefix("sha256:") if done.returncode == 0 else ""


def copy_images(images: list[str]) -> list[str]:
    """Each image from Docker into Podman unless Podman holds the same id; returns those copied."""
    copied = []
    for image in images:
        source = _image_id("docker", image)
        assert source, f"{image} is not in Docker (scripts/real-stack/build.py forge builds it)"
        if _image_id("podman", image) == source:
            continue
        saver = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        try:
            loaded = subprocess.run(["podman", "load"], stdin=saver.stdout, capture_output=True, text=True,
                                    timeout=900)
        finally:
            if saver.stdout:
                saver.stdout.close()
            saver.wait(timeout=60)
        assert loaded.returncode == 0 and saver.returncode == 0, f"copying {image} into Podman: {loaded.stderr}"
        # Podman 4.3 names a loaded docker-archive image without a registry `localhost/<name>`
        # (docker save writes `gitea/gitea:1.26.4`): give it the name the lab asks for.
        podman("tag", source, image)
        copied.append(image)
    return copied


def _podman_subnets() -> list[ipaddress.IPv4Network]:
    nets = []
    for net in json.loads(podman("network", "ls", "--format", "json").stdout or "[]"):
        for sub in net.get("subnets") or []:
            if ":" not in sub["subnet"]:
                nets.append(ipaddress.ip_network(sub["subnet"], strict=False))
    return nets


def free_subnet() -> str:
    """A /24 in 172.30.0.0/16 that neither Docker's nor Podman's networks use (both route on this host)."""
    used = used_subnets() + _podman_subnets()
    for i in range(2, 250):
        candidate = ipaddress.ip_network(f"172.30.{(uuid.uuid4().int + i) % 248 + 2}.0/24")
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    raise RuntimeError("no free /24 in 172.30.0.0/16 on Docker and Podman")


def make_podman_lab(root: Path) -> ForgeLab:
    """A lab with `engine: podman`, its own name, subnet and free ports (tests/real/conftest.make_forge_lab)."""
    name = f"glp{uuid.uuid4().hex[:8]}"
    settings = lab_settings(name, {}, engine="podman")
    settings["network"] = {"subnet": free_subnet()}
    config = write_config(root / "gitopslab.yaml", settings)
    cfg = load_config(config, environ={})
    state_root = root / "state"
    return ForgeLab(name, config, state_root, Context(cfg=cfg, topo=build(cfg), state=LabState(name, state_root)))


def podman_objects(lab: str) -> dict[str, list[str]]:
    """What on Podman carries the lab's label, read with the plain podman CLI."""
    return lab_objects(lab, podman)


def remove_podman_lab(ctx: Context) -> None:
    """The project's destroy, then a label sweep on Podman for whatever it left."""
    try:
        remove_lab(ctx)
    finally:
        force_cleanup(ctx.topo.lab, podman, ("network", "rm", "-f"))
