"""Host/mirrors: a mirror that answers /v2/ passes, a silent one is named, and an http mirror the
engine would refuse is named with the insecure-registries fix, read from `docker info`'s
RegistryConfig. Docker's real defaults are used, as the engine here reports them."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gitopslab.doctor.mirrors import allowed_over_http, mirrors
from gitopslab.doctor.probe import Probe
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.state import LabState
from tests.support.compose_lab import free_ports


class _V2(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/v2/" else 404)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def registry_api() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _V2)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def _probe(**registries: str) -> Probe:
    cfg = LabConfig(mirrors=registries)
    return Probe(cfg, build(cfg), LabState(cfg.name), timeout=3)


def test_no_mirrors_is_a_skip() -> None:
    assert str(mirrors(_probe()).status) == "skip"


def test_a_mirror_on_loopback_that_answers_passes(engine: str, registry_api: int) -> None:
    result = mirrors(_probe(docker_io=f"http://127.0.0.1:{registry_api}"))
    assert str(result.status) == "ok" and "docker.io" in result.detail


def test_a_silent_mirror_is_named_with_the_fix(engine: str) -> None:
    (port,) = free_ports(1, set())
    result = mirrors(_probe(ghcr_io=f"http://127.0.0.1:{port}"))
    assert str(result.status) == "warn"
    assert f"ghcr.io mirror http://127.0.0.1:{port} does not answer" in result.detail
    assert "gitopslab mirror up" in (result.fix or "")


def test_the_engine_s_own_registry_config_decides_http(engine: str) -> None:
    info = json.loads(subprocess.run([engine, "info", "--format", "{{json .}}"], capture_output=True, text=True,
                                     check=True).stdout)
    assert allowed_over_http("127.0.0.1:5101", info)        # loopback: Docker's default insecure CIDR
    assert not allowed_over_http("192.168.1.10:5101", info)  # a LAN mirror needs insecure-registries
    allowed = info | {"RegistryConfig": {"IndexConfigs": {"192.168.1.10:5101": {"Secure": False}}}}
    assert allowed_over_http("192.168.1.10:5101", allowed)


def test_a_lan_http_mirror_the_engine_refuses_is_named(engine: str) -> None:
    result = mirrors(_probe(docker_io="http://192.0.2.1:5101"))  # TEST-NET-1: never answers
    assert str(result.status) == "warn"
    assert "does not pull over http from 192.0.2.1:5101" in result.detail
    assert "insecure-registries" in (result.fix or "")
