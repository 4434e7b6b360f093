"""`mirror up` re-creates a mirror that listens on another address than the one asked for (issue 23 item
16: a mirror left on 0.0.0.0 was kept, since only its port was compared). The engine is a stand-in that
keeps each container's published bindings; the mirror's /v2/ answer comes from a real HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from gitopslab.stack import mirror


@dataclass
class _Engine:
    """Containers by name with their env and bindings, as `docker inspect` shows them."""

    containers: dict[str, Any] = field(default_factory=dict)
    volumes: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.container = SimpleNamespace(exists=lambda n: n in self.containers,
                                         inspect=lambda n: self.containers[n], remove=self._remove,
                                         logs=lambda n, tail=20: "")
        self.volume = SimpleNamespace(exists=lambda n: n in self.volumes, create=lambda n, labels: self.volumes.add(n))
        self.image = SimpleNamespace(exists=lambda ref: True)  # the registry image is there

    def _remove(self, name: str, force: bool = False) -> None:
        del self.containers[name]

    def run(self, image: str, *, name: str, envs: dict[str, str], publish: list[tuple[str, int]],
            **_: Any) -> None:
        (host, inner), = publish
        ip, port = host.rsplit(":", 1)
        self.containers[name] = SimpleNamespace(
            state=SimpleNamespace(running=True), config=SimpleNamespace(env=[f"{k}={v}" for k, v in envs.items()]),
            host_config=SimpleNamespace(port_bindings={f"{inner}/tcp": [SimpleNamespace(host_ip=ip, host_port=port)]}))

    def bound(self, name: str) -> list[tuple[str, str]]:
        return [(b.host_ip, b.host_port) for b in self.containers[name].host_config.port_bindings["5000/tcp"]]


@pytest.fixture
def v2_port() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_mirror_left_on_every_address_is_recreated_on_loopback(v2_port: int) -> None:
    (m,) = mirror.plan(first_port=v2_port, only=["docker.io"])
    engine = _Engine()
    mirror.ensure(engine, [m], "registry:3", "0.0.0.0", timeout=10)  # an older run, or a room's --address
    assert engine.bound(m.container) == [("0.0.0.0", str(v2_port))]
    said = mirror.ensure(engine, [m], "registry:3", "127.0.0.1", timeout=10)
    assert engine.bound(m.container) == [("127.0.0.1", str(v2_port))]
    assert said == [f"docker.io: started on port {v2_port} (from {m.upstream})"]
    again = mirror.ensure(engine, [m], "registry:3", "127.0.0.1", timeout=10)  # as asked: kept
    assert again == [f"docker.io: running on port {v2_port}"]
