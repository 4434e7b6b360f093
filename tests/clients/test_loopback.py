"""clients/loopback.py: a lab service is reached at 127.0.0.1 on its published port, with its lab name
in the Host header, never through the host's resolver or an HTTP proxy from the environment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from gitopslab.clients.loopback import dial_target, request
from gitopslab.model.topology import Service


class _Echo(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str, str]] = []

    def _answer(self) -> None:
        self.seen.append((self.command, self.path, self.headers["Host"], self.headers.get("Accept", "")))
        self.send_response(200 if self.path != "/missing" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = _answer  # noqa: N815 - http.server's names

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def service() -> Iterator[Service]:
    _Echo.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        # A name no resolver knows: only the loopback dial can reach it.
        yield Service("svc", "Service", "compose", "svc.never-resolves.localhost", port, 80, "/healthz")
    finally:
        server.shutdown()
        server.server_close()


def test_health_path_by_default_with_the_lab_name_as_host(service: Service,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # a proxy in the environment is not used
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    assert request(service).status_code == 200
    assert _Echo.seen == [("GET", "/healthz", service.address, "*/*")]


def test_path_method_and_extra_headers(service: Service) -> None:
    answer = request(service, "/missing", method="HEAD", timeout=2.0, headers={"Accept": "application/x-test"})
    assert answer.status_code == 404
    assert _Echo.seen == [("HEAD", "/missing", service.address, "application/x-test")]


def test_nothing_listening_is_an_httpx_error(service: Service) -> None:
    closed = Service("gone", "Gone", "compose", "gone.localhost", 9, 80, "/")  # discard port: refused
    with pytest.raises(httpx.HTTPError):
        request(closed, timeout=1.0)


def test_dial_target_maps_lab_names_only() -> None:
    assert dial_target("http://demo.localhost:8088/predict") == (
        "http://127.0.0.1:8088/predict", {"Host": "demo.localhost:8088"})
    assert dial_target("http://localhost/x?y=1") == ("http://127.0.0.1/x?y=1", {"Host": "localhost"})
    assert dial_target("http://10.0.0.5:8080/predict") == ("http://10.0.0.5:8080/predict", {})
