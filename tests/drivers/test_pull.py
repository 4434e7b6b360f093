"""Image pulls with bytes and an estimate (issue 16: "image pulls with bytes and an estimate"): a real
engine pulls a locally built image back from a real registry (Debian's docker-registry on 127.0.0.1)
through its API socket; the bytes reported add up to the layer sizes the registry's manifest gives."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from gitopslab.commands import progress
from gitopslab.drivers import pull
from gitopslab.drivers.engine import ComposeLab, EngineInfo
from gitopslab.errors import EngineError
from tests.support.services import registry

MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"])


@pytest.fixture(scope="module")
def pushed(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """An image of two layers of random bytes (no other image shares them, so removing it removes its
    layers and a pull must download them), in a registry of its own."""
    context = tmp_path_factory.mktemp("pull-image")
    for name in ("one", "two"):
        (context / name).write_bytes(os.urandom(24 * 1024 * 1024))
    (context / "Dockerfile").write_text("FROM scratch\nCOPY one /one\nCOPY two /two\n")
    with registry(tmp_path_factory.mktemp("pull-registry")) as reg:
        ref = f"{reg.url.removeprefix('http://')}/gitopslab/pulltest:1"
        subprocess.run(["docker", "build", "-q", "-t", ref, str(context)], check=True, capture_output=True)
        subprocess.run(["docker", "push", "-q", ref], check=True, capture_output=True)
        yield reg.url, ref
        subprocess.run(["docker", "image", "rm", "-f", ref], capture_output=True)


def _absent(ref: str) -> None:
    subprocess.run(["docker", "image", "rm", "-f", ref], check=True, capture_output=True)
    subprocess.run(["docker", "builder", "prune", "-f"], capture_output=True)
    assert subprocess.run(["docker", "image", "inspect", ref], capture_output=True).returncode != 0


def _layer_bytes(registry_url: str) -> int:
    manifest = httpx.get(f"{registry_url}/v2/gitopslab/pulltest/manifests/1", headers={"Accept": MANIFEST_TYPES},
                         timeout=10).json()
    return sum(int(layer["size"]) for layer in manifest["layers"])


def _socket() -> str:
    found = pull.socket_path("docker", "docker")
    assert found, "the engine the tests start listens on a unix socket"
    return found


def test_a_pull_reports_bytes_that_add_up_to_the_registrys_layers(pushed: tuple[str, str]) -> None:
    registry_url, ref = pushed
    _absent(ref)
    lines: list[str] = []
    seen: list[tuple[int, int, float | None]] = []

    def watch(p: pull.PullProgress) -> None:
        lines.append(p.line())
        seen.append((p.done_bytes, p.total_bytes, p.seconds_left))

    final = pull.pull(_socket(), ref, watch)
    assert subprocess.run(["docker", "image", "inspect", ref], capture_output=True).returncode == 0
    assert final.total_bytes == _layer_bytes(registry_url) > 0
    assert final.done_bytes == final.total_bytes
    assert any(done < total for done, total, _ in seen), "progress was seen before the end"
    assert all(b[0] <= b[1] for b in seen)
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen), "bytes only grow"
    assert any(" of " in line and "MB/s" in line for line in lines[:-1]), lines[:5]
    assert lines[-1].startswith(f"pulled {ref}: {final.total_bytes / 1e6:.1f} MB in ")


def test_the_compose_lab_pulls_with_progress_and_the_face_throttles_it(pushed: tuple[str, str],
                                                                       tmp_path: Path) -> None:
    _, ref = pushed
    _absent(ref)
    out = io.StringIO()
    ticks = iter(float(i) for i in range(100000))
    printer = progress.pull_printer(clock=lambda: next(ticks), every=5.0, out=Console(file=out, width=200))
    info = EngineInfo("docker", "docker", "?", "?", "linux")
    lab = ComposeLab(info, "glpull", tmp_path / "compose.yaml", tmp_path / "lab.env", on_pull=printer)
    lab.require_images({"registry": ref})
    shown = out.getvalue().splitlines()
    assert subprocess.run(["docker", "image", "inspect", ref], capture_output=True).returncode == 0
    assert shown[-1].strip().startswith(f"pulled {ref}")
    # One line per five (fake) seconds of events: far fewer lines than the engine sent events.
    assert 1 <= len(shown) < 40, shown


def test_a_missing_image_is_named_with_the_engines_reason(pushed: tuple[str, str]) -> None:
    registry_url, _ = pushed
    ref = f"{registry_url.removeprefix('http://')}/gitopslab/no-such-image:1"
    with pytest.raises(EngineError) as caught:
        pull.pull(_socket(), ref, lambda p: None)
    assert ref.split(":1")[0] in caught.value.message
    assert "docker pull" in (caught.value.hint or "")


def test_an_engine_that_stops_talking_is_named_with_what_it_said_last(tmp_path: Path) -> None:
    """A real unix socket that answers the request, says one event, then nothing."""
    path = str(tmp_path / "engine.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    done = threading.Event()

    def serve() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        event = b'{"status":"Pulling fs layer","id":"abc123"}\r\n'
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + f"{len(event):x}\r\n".encode() + event + b"\r\n")
        done.wait(10)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(EngineError) as caught:
            pull.pull(path, "example.org/app:1", lambda p: None, stall_s=1.0)
    finally:
        done.set()
        thread.join(5)
        server.close()
    assert "said nothing for 1 s while pulling example.org/app:1" in caught.value.message
    assert "last seen: abc123 Pulling fs layer" in caught.value.message


def test_the_estimate_follows_the_bytes() -> None:
    p = pull.PullProgress("r/app:1", started=0.0)
    p.update({"id": "a", "status": "Pulling fs layer", "progressDetail": {}}, 0.5)
    p.update({"id": "a", "status": "Downloading", "progressDetail": {"current": 2_000_000, "total": 8_000_000}}, 1.0)
    p.update({"id": "b", "status": "Downloading", "progressDetail": {"current": 1_000_000, "total": 2_000_000}}, 1.5)
    assert (p.done_bytes, p.total_bytes) == (3_000_000, 10_000_000)
    assert p.line() == "pulling r/app:1: 3.0 of 10.0 MB, 2.0 MB/s, about 0:03 left"
    p.update({"id": "b", "status": "Download complete", "progressDetail": {}}, 2.0)
    p.update({"id": "a", "status": "Extracting", "progressDetail": {"current": 100, "total": 8_000_000}}, 4.0)
    assert p.done_bytes == 10_000_000  # extraction re-reads bytes already counted
    p.update({"id": "c", "status": "Already exists"}, 4.0)
    assert p.total_bytes == 10_000_000  # a layer the engine has costs nothing
