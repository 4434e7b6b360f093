"""The landing page (`gitopslab open`): served on 127.0.0.1 behind a token, live status per service,
rendered by a real headless Chromium and checked on its screenshot."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest

from gitopslab.commands import landing
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from tests.conftest import need
from tests.support.compose_lab import free_ports

GREEN = (0x1A, 0x9F, 0x45)
RED = (0xC9, 0x2A, 0x2A)


class _Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"status": "pass"}')

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def page() -> Iterator[tuple[landing.LandingServer, LabConfig]]:
    """A lab whose Gitea answers (a stand-in on its port) and whose other services are down."""
    gitea_port, *others = free_ports(12, set())
    ports = {"gitea": gitea_port, "woodpecker": others[0], "registry": others[1], "argocd": others[2],
             "hello_api": others[3], "mlflow": others[4], "minio_api": others[5], "minio_console": others[6],
             "dashboard": others[7]}
    cfg = LabConfig.model_validate({"ports": ports})
    topo = build(cfg)
    gitea = HTTPServer(("127.0.0.1", gitea_port), _Healthy)
    threading.Thread(target=gitea.serve_forever, daemon=True).start()
    secrets = {"gitea_admin_password": "pw-gitea-123456", "argocd_admin_password": "pw-argo-654321",
               "minio_root_user": "gitopslab-minio", "minio_root_password": "pw-minio-000000"}
    server = landing.LandingServer("gitopslab", landing.entries(topo, secrets, cfg.admin_user),
                                   lambda: landing.statuses(topo, lambda s: landing.probe(s, timeout=0.5))).start()
    try:
        yield server, cfg
    finally:
        server.close()
        gitea.shutdown()
        gitea.server_close()


def test_page_answers_only_with_its_token_and_on_its_own_address(page: tuple[landing.LandingServer, LabConfig]) -> None:
    server, _ = page
    base = server.url.rsplit("/", 2)[0]
    assert httpx.get(server.url).status_code == 200
    assert httpx.get(f"{base}/").status_code == 404
    assert httpx.get(f"{base}/wrong-token/").status_code == 404
    rebinding = httpx.get(server.url, headers={"Host": "evil.example:80"})
    assert rebinding.status_code == 403 and "pw-gitea" not in rebinding.text
    status = httpx.get(f"{server.url}status.json").json()
    assert status["gitea"] == "up" and status["argocd"] == "down"


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    need(exe is not None, "chromium is not installed (scripts/test.sh installs Debian's chromium)")
    profile = tempfile.mkdtemp(prefix="gitopslab-chromium-")
    try:
        return subprocess.run([str(exe), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                               "--no-first-run", "--disable-background-networking", "--disable-component-update",
                               "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=8000",
                               *args], capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_chromium_shows_every_service_with_its_live_status(page: tuple[landing.LandingServer, LabConfig],
                                                           tmp_path: Path) -> None:
    server, cfg = page
    dom = _chromium("--dump-dom", server.url).stdout
    assert '<tr data-key="gitea" class="up">' in dom
    assert '<tr data-key="argocd" class="down">' in dom
    assert f"http://gitea.localhost:{cfg.ports.gitea}" in dom and "copy password" in dom
    shot = Path(tempfile.gettempdir()) / "gitopslab-landing.png"  # kept for a person to look at
    _chromium(f"--screenshot={shot}", "--window-size=1200,700", server.url)
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 700)
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 24) or []}
    # The green dot of the one service that answers, the red dots of those that do not.
    assert any(_near(c, GREEN) for c in colours) and any(_near(c, RED) for c in colours)


def _near(colour: tuple[int, int, int], wanted: tuple[int, int, int], slack: int = 24) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(colour, wanted, strict=True))


BOUND = 16  # landing.MAX_THREADS, the most connections served at once


def test_idle_connections_are_dropped_and_never_take_more_than_the_bound_of_threads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 23 item 16: the server had no socket timeout, so 1000 idle connections were 1000 threads.
    monkeypatch.setattr(landing, "IDLE_TIMEOUT", 1.0, raising=False)
    server = landing.LandingServer("gitopslab", [], dict).start()
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", server.httpd.server_port), timeout=30) for _ in range(80)]
    try:
        deadline = time.monotonic() + 20
        peak = 0
        while time.monotonic() < deadline:  # bounded: the accept loop has seen every connection by then
            peak = max(peak, threading.active_count() - before)
            if peak > BOUND or all(_closed(s) for s in idle):
                break
            time.sleep(0.1)
        assert peak <= BOUND, f"{peak} threads for 80 idle connections"
        assert all(_closed(s) for s in idle), "the server kept idle connections open past its timeout"
        answer = httpx.get(server.url, timeout=10)  # and it still serves the page afterwards
        assert answer.status_code == 200
    finally:
        for s in idle:
            s.close()
        server.close()


def _closed(sock: socket.socket) -> bool:
    """The server closed this connection (a read returns EOF, or the connection was reset)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
