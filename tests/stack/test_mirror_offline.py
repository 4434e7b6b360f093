"""`mirror up` where it cannot get what it needs (issue 23 item 6), on the real engine: offline, an image
that cannot be pulled is a clear error naming it and the fix, exit 1, and nothing is created; a start
that fails after the cache volume was made (a port taken) removes the container and the volume it
made, and keeps a cache volume that was already there."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitopslab.stack.mirror import LABEL_KEY

REPO = Path(__file__).resolve().parents[2]
UNPULLABLE = "registry.invalid/gitopslab/no-such-registry:0"  # .invalid never resolves (RFC 2606)


def mirror_up(registry: str, port: int, image: str, cwd: Path, **more: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO), "GITOPSLAB_IMAGES__REGISTRY": image, **more}
    return subprocess.run([sys.executable, "-m", "gitopslab", "mirror", "up", "--only", registry, "--port", str(port)],
                          capture_output=True, text=True, timeout=180, cwd=cwd, env=env, stdin=subprocess.DEVNULL)


def _exists(kind: str, name: str) -> bool:
    return subprocess.run(["docker", kind, "inspect", name], capture_output=True).returncode == 0


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def nvcr_mirror(engine: str) -> Iterator[tuple[str, str]]:
    """The names `mirror up --only nvcr.io` uses (no other test starts that one); removed after."""
    names = ("gitopslab-mirror-nvcr-io", "gitopslab-mirror-nvcr-io-cache")
    assert not _exists("container", names[0]) and not _exists("volume", names[1]), "an nvcr.io mirror runs here"
    yield names
    subprocess.run(["docker", "rm", "-f", names[0]], capture_output=True)
    subprocess.run(["docker", "volume", "rm", names[1]], capture_output=True)


def test_offline_an_unpullable_image_is_named_with_the_fix_and_nothing_is_made(
        nvcr_mirror: tuple[str, str], taken_port: int, tmp_path: Path) -> None:
    container, volume = nvcr_mirror
    proc = mirror_up("nvcr.io", taken_port, UNPULLABLE, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    error = next(line for line in proc.stderr.splitlines() if line.startswith("error: "))
    assert UNPULLABLE in error and "cannot be pulled" in error and "nothing was changed" in error
    fix = next(line for line in proc.stderr.splitlines() if line.startswith("  fix: "))
    assert "bundle load" in fix and "images.registry" in fix
    assert not _exists("container", container) and not _exists("volume", volume)


def test_a_failed_start_removes_the_container_and_the_volume_it_made(
        nvcr_mirror: tuple[str, str], taken_port: int, busybox_image: str, tmp_path: Path) -> None:
    container, volume = nvcr_mirror
    proc = mirror_up("nvcr.io", taken_port, busybox_image, tmp_path)  # the image is there; the port is not
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and f"port {taken_port}" in proc.stderr
    assert not _exists("container", container) and not _exists("volume", volume)


def test_a_cache_volume_that_was_there_is_kept(nvcr_mirror: tuple[str, str], taken_port: int, busybox_image: str,
                                               tmp_path: Path) -> None:
    container, volume = nvcr_mirror
    subprocess.run(["docker", "volume", "create", "--label", f"{LABEL_KEY}=nvcr.io", volume], check=True,
                   capture_output=True)
    proc = mirror_up("nvcr.io", taken_port, busybox_image, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert not _exists("container", container)
    assert _exists("volume", volume)  # a room's cache, made by an earlier run: not this run's to remove


def test_a_room_mirror_named_in_the_settings_is_tried_first_and_named(nvcr_mirror: tuple[str, str], taken_port: int,
                                                                       tmp_path: Path) -> None:
    container, volume = nvcr_mirror
    image = "docker.io/library/registry:0.0.0-no-such-tag"
    with socket.socket() as closed:  # a mirror address where nothing listens
        closed.bind(("127.0.0.1", 0))
        room = f"127.0.0.1:{closed.getsockname()[1]}"
    proc = mirror_up("nvcr.io", taken_port, image, tmp_path, GITOPSLAB_MIRRORS__DOCKER_IO=f"http://{room}")
    assert proc.returncode == 1, proc.stderr
    error = next(line for line in proc.stderr.splitlines() if line.startswith("error: "))
    assert f"{room}/library/registry:0.0.0-no-such-tag: " in error and f"{image}: " in error  # both tries
    assert not _exists("container", container) and not _exists("volume", volume)
