"""Helpers for the compose-layer engine tests: stand-in images, a free subnet and free ports per lab,
and a test lab's configuration written as a gitopslab.yaml."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from gitopslab.model.config import ALLOW_IMAGES_ENV, HOST_ROOT_ROLES
from gitopslab.model.topology import LABEL
from gitopslab.model.versions import IMAGES

HERE = Path(__file__).resolve().parent
STANDINS = HERE.parent / "fakes" / "standins"
# role -> (Dockerfile, which base image)
STANDIN_ROLES = {
    "gitea": ("Dockerfile.gitea", "busybox"),
    "woodpecker-server": ("Dockerfile.woodpecker-server", "busybox"),
    "woodpecker-agent": ("Dockerfile.woodpecker-agent", "busybox"),
    "registry": ("Dockerfile.registry", "base"),
}


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


def build_standins(context: Path, bases: dict[str, str]) -> dict[str, str]:
    """Build one stand-in image per role; return role -> tag (unique to this test session)."""
    shutil.copytree(STANDINS, context, dirs_exist_ok=True)
    shutil.copy2(shutil.which("docker-registry") or "/usr/bin/docker-registry", context / "docker-registry")
    shutil.copy2("/bin/busybox", context / "busybox")
    session = uuid.uuid4().hex[:8]
    tags = {}
    for role, (dockerfile, base) in STANDIN_ROLES.items():
        tag = f"gitopslab-standin-{role}:{session}"
        proc = subprocess.run(
            ["docker", "build", "-q", "--label", "io.gitopslab.test=1", "--build-arg", f"BASE={bases[base]}",
             "-f", str(context / dockerfile), "-t", tag, str(context)],
            capture_output=True, text=True, timeout=300, env=dict(os.environ, DOCKER_BUILDKIT="0"),
        )
        if proc.returncode != 0:
            raise RuntimeError(f"building {tag} failed:\n{proc.stdout}\n{proc.stderr}")
        tags[role] = tag
    return tags


def used_subnets() -> list[ipaddress.IPv4Network]:
    ids = docker("network", "ls", "-q").stdout.split()
    if not ids:
        return []
    nets = []
    for net in json.loads(docker("network", "inspect", *ids).stdout):
        for cfg in (net.get("IPAM") or {}).get("Config") or []:
            if cfg.get("Subnet") and ":" not in cfg["Subnet"]:
                nets.append(ipaddress.ip_network(cfg["Subnet"], strict=False))
    return nets


def free_subnet(name: str) -> str:
    """A /24 in 172.31.0.0/16 picked from the name, skipping any that overlaps an existing network."""
    used = used_subnets()
    start = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 250
    for i in range(250):
        candidate = ipaddress.ip_network(f"172.31.{(start + i) % 250 + 2}.0/24")
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    raise RuntimeError("no free /24 in 172.31.0.0/16 on this engine")


def free_ports(count: int, avoid: set[int]) -> list[int]:
    ports: list[int] = []
    socks = []
    try:
        while len(ports) < count:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
            port = sock.getsockname()[1]
            if port not in avoid:
                ports.append(port)
    finally:
        for sock in socks:
            sock.close()
    return ports


DEFAULT_PORTS = {6550, 8081, 8088, 8090, 9090, 9091, 32443, 3001, 9099, 9093}


def lab_settings(name: str, images: dict[str, str], **extra: Any) -> dict[str, Any]:
    gitea, woodpecker, registry = free_ports(3, DEFAULT_PORTS)
    settings: dict[str, Any] = {
        "name": name,
        "engine": "docker",
        "network": {"subnet": free_subnet(name)},
        "ports": {"gitea": gitea, "woodpecker": woodpecker, "registry": registry},
        "images": dict(images),
        "timeouts": {"service_ready": 60, "poll_interval": 0.5},
    }
    settings.update(extra)
    return settings


def allow_env(images: dict[str, str]) -> dict[str, str]:
    """The environment that lets a test's settings file name its own image for a host-root role (the
    agent gets the engine's socket): the guard takes such an image only from GITOPSLAB_ALLOW_IMAGES,
    which a file cannot set, so the tests name the roles they replace as a user would."""
    roles = sorted(r for r, ref in images.items() if r in HOST_ROOT_ROLES and ref != IMAGES[r])
    return {ALLOW_IMAGES_ENV: ",".join(roles)} if roles else {}


def write_config(path: Path, settings: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


# The engine's plain CLI: `docker` here, tests/real/podman_fixtures.podman for Podman (the same verbs and flags).
EngineCli = Callable[..., "subprocess.CompletedProcess[str]"]


def lab_objects(lab: str, cli: EngineCli = docker) -> dict[str, list[str]]:
    """What on the engine carries this lab's label, read with the plain engine CLI."""
    flt = f"label={LABEL}={lab}"
    return {
        "containers": cli("ps", "-a", "--filter", flt, "--format", "{{.Names}}").stdout.split(),
        "volumes": cli("volume", "ls", "--filter", flt, "--format", "{{.Name}}").stdout.split(),
        "networks": cli("network", "ls", "--filter", flt, "--format", "{{.Name}}").stdout.split(),
    }


def force_cleanup(lab: str, cli: EngineCli = docker, network_rm: tuple[str, ...] = ("network", "rm")) -> None:
    """Last-resort cleanup by the lab's label (the tests' own labs only). `network_rm`: Podman's takes -f
    (Docker 20.10's has none)."""
    objs = lab_objects(lab, cli)
    if objs["containers"]:
        cli("rm", "-f", *objs["containers"], check=False)
    if objs["volumes"]:
        cli("volume", "rm", "-f", *objs["volumes"], check=False)
    for net in objs["networks"]:
        cli(*network_rm, net, check=False)


def remove_lab(ctx: Any) -> None:
    """A test lab's compose side gone: the project's own destroy, then the label sweep whatever it left."""
    from gitopslab.stack import compose_layer

    try:
        compose_layer.destroy(ctx)
    finally:
        force_cleanup(ctx.topo.lab)
