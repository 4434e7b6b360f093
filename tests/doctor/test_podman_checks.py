"""doctor's engine check names Podman's own fixes: the API socket not running, a stopped Podman machine,
and rootless Podman's port limit; a stand-in `podman` on PATH answers as Podman 4.3 does."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitopslab.doctor import host
from gitopslab.doctor.probe import Probe
from gitopslab.drivers import podman


def _fake(bin_dir: Path, rootless: bool, sock: str, version_error: str = "") -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    version = json.dumps({"Client": {"APIVersion": "4.3.1", "Version": "4.3.1", "Os": "linux"}})
    script = bin_dir / "podman"
    script.write_text(f"""#!/bin/sh
case "$1 $3" in
  version*) [ -n '{version_error}' ] && {{ echo '{version_error}' >&2; exit 125; }}; echo '{version}' ;;
  *Rootless*) echo {'true' if rootless else 'false'} ;;
  *RemoteSocket*) echo '{sock}' ;;
esac
""")
    script.chmod(0o755)


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    bin_dir = tmp_path / "bin"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    start = tmp_path / "ip_unprivileged_port_start"
    # Ports below 1024 the configuration refuses already; a host can raise the limit above them.
    start.write_text("4000\n")
    monkeypatch.setattr(podman, "UNPRIVILEGED_PORT_START", start)
    sock_path = str(tmp_path / "podman.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(sock_path)
    try:
        yield bin_dir, sock_path
    finally:
        sock.close()


def test_rootless_podman_and_a_port_below_the_hosts_limit_names_the_sysctl(path: tuple[Path, str],
                                                                 make_probe: Callable[..., Probe]) -> None:
    _fake(path[0], rootless=True, sock=path[1])
    result = host.engine(make_probe(engine="podman", ports={"gitea": 3000}))
    assert result.status == "fail"
    assert "rootless Podman cannot publish the lab's ports below 4000: 3000" in result.detail
    assert "sudo sysctl net.ipv4.ip_unprivileged_port_start=3000" in result.fix


def test_rootful_podman_publishes_low_ports(path: tuple[Path, str], make_probe: Callable[..., Probe]) -> None:
    _fake(path[0], rootless=False, sock=path[1])
    result = host.engine(make_probe(engine="podman", ports={"gitea": 3000}))
    assert result.status == "ok" and result.detail.startswith("podman 4.3.1"), result


def test_podmans_socket_not_running_is_a_failure_with_the_commands_that_start_it(
        path: tuple[Path, str], tmp_path: Path, make_probe: Callable[..., Probe]) -> None:
    _fake(path[0], rootless=False, sock=str(tmp_path / "gone.sock"))
    result = host.engine(make_probe(engine="podman"))
    assert result.status == "fail" and "is not running" in result.detail
    assert "systemctl enable --now podman.socket" in result.fix and "podman machine start" in result.fix


def test_a_stopped_podman_machine_says_podman_machine_start(path: tuple[Path, str],
                                                           make_probe: Callable[..., Probe]) -> None:
    _fake(path[0], rootless=False, sock=path[1],
          version_error="Cannot connect to Podman. Please verify your connection to the Linux system using "
                        "`podman system connection list`, or try `podman machine init` and `podman machine start`")
    result = host.engine(make_probe(engine="podman"))
    assert result.status == "fail" and "the Podman machine (or Podman's API service) is not running" in result.detail
    assert result.fix.startswith("start the Podman machine: `podman machine start`")
