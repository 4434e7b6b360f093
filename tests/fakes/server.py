"""A tiny threaded HTTP server on 127.0.0.1 that records every call and every contract violation.

A subclass implements `handle(call) -> Reply`; raising ContractViolation there answers 400 and records
it, and the fixture that owns the fake fails the test if any was recorded (so a client that swallows
the 400 still fails). `inject(method, path, status, times)` makes the next calls answer an error first.
"""

from __future__ import annotations

import json
import threading
import traceback
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.swagger import ContractViolation


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def changing(self) -> bool:
        return self.method not in {"GET", "HEAD", "OPTIONS"}

    def cookie(self, name: str) -> str | None:
        jar = SimpleCookie(self.headers.get("cookie", ""))
        return jar[name].value if name in jar else None

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    status: int
    body: Any = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


def redirect(location: str, *cookies: str, status: int = 303) -> Reply:
    headers = [("Location", location)] + [("Set-Cookie", c) for c in cookies]
    return Reply(status, b"", headers, "text/html; charset=utf-8")


class FakeServer:
    name = "fake"

    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self._faults: list[tuple[str, str, int]] = []
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"fake-{self.name}", daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The URL as a person types it: the lab name, which clients must map to 127.0.0.1 themselves."""
        return f"http://{self.hostname}:{self.port}"

    @property
    def direct_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- test controls -----------------------------------------------------------------------------
    def inject(self, method: str, path: str, status: int, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([(method, path, status)] * times)

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    def changing_calls(self) -> list[str]:
        return [f"{c.method} {c.path}" for c in self.calls if c.changing]

    # --- dispatch ----------------------------------------------------------------------------------
    def dispatch(self, call: Call) -> Reply:
        with self._lock:
            self.calls.append(call)
            for fault in self._faults:
                if fault[0] == call.method and fault[1] == call.path:
                    self._faults.remove(fault)
                    return Reply(fault[2], {"message": f"injected {fault[2]}"})
            try:
                if call.headers.get("host") != f"{self.hostname}:{self.port}":
                    raise ContractViolation(f"{call.method} {call.path}: Host header {call.headers.get('host')!r}, "
                                            f"expected the lab name {self.hostname}:{self.port}")
                return self.handle(call)
            except ContractViolation as exc:
                self.violations.append(str(exc))
                return Reply(400, {"message": f"contract violation: {exc}"})
            except Exception:  # a bug in the fake itself must fail the test too
                self.violations.append(f"{self.name} fake crashed on {call.method} {call.path}:\n"
                                       f"{traceback.format_exc()}")
                return Reply(500, {"message": "fake crashed"})

    def handle(self, call: Call) -> Reply:  # pragma: no cover - subclasses
        raise NotImplementedError


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().strip().split(b";")[0], 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _handler_for(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            call = Call(self.command, unquote(parts.path), parse_qs(parts.query, keep_blank_values=True),
                        {k.lower(): v for k, v in self.headers.items()}, _read_body(self))
            reply = fake.dispatch(call)
            payload = reply.payload()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in reply.headers:
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

    return Handler
