"""The shared HTTP layer: split-horizon mapping, bounded retries, error translation, redaction."""

from __future__ import annotations

import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from gitopslab.clients.gitea import gitea_client
from gitopslab.clients.http import RetryPolicy, ServiceAPI, make_client
from gitopslab.errors import HTTPServiceError

FAST = RetryPolicy(attempts=4, budget_s=5.0, wait_initial_s=0.01, wait_max_s=0.02)
SECRET = "s3cr3t-Token-Value-0123456789"


class _Echo(BaseHTTPRequestHandler):
    """Answers with the Host header it saw and sets a cookie on /set."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        body = f"host={self.headers['Host']} cookie={self.headers.get('Cookie', '')}".encode()
        self.send_response(200)
        if self.path == "/set":
            self.send_header("Set-Cookie", "sess=abc; Path=/; HttpOnly")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def echo_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_lab_name_reaches_loopback_with_host_header_and_cookie_scope(echo_server):
    port = echo_server
    with pytest.raises(socket.gaierror):  # the premise: this host's resolver does not know the name
        socket.getaddrinfo("gitea.never-resolves.localhost", port)
    url = f"http://gitea.never-resolves.localhost:{port}"
    with make_client(url, resolve={"gitea.never-resolves.localhost": "127.0.0.1"}, retry=FAST) as client:
        first = client.get("/set")
        assert first.text == f"host=gitea.never-resolves.localhost:{port} cookie="
        (cookie,) = list(client.cookies.jar)
        assert cookie.domain == "gitea.never-resolves.localhost"  # bound to the lab name, not 127.0.0.1
        assert client.get("/again").text.endswith("cookie=sess=abc")
        # the same socket under its IP is another site: the cookie does not leak there
        assert client.get(f"http://127.0.0.1:{port}/x").text == f"host=127.0.0.1:{port} cookie="


def test_503_then_200_succeeds_through_retry():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(503 if len(seen) == 1 else 200, json={"version": "1.26.3"})

    with gitea_client("http://gitea.localhost:3000", transport=httpx.MockTransport(handler), retry=FAST) as api:
        assert api.version() == "1.26.3"
    assert seen == ["/api/v1/version", "/api/v1/version"]


def test_retries_are_bounded_and_then_explained():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(502, text="bad gateway")

    started = time.monotonic()
    with gitea_client("http://gitea.localhost:3000", transport=httpx.MockTransport(handler), retry=FAST) as api, \
            pytest.raises(HTTPServiceError) as err:
        api.version()
    assert len(calls) == FAST.attempts and time.monotonic() - started < FAST.budget_s
    assert "kept answering 502" in str(err.value) and "GET /api/v1/version" in str(err.value)


def test_connection_refused_is_retried_then_names_the_service():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with gitea_client(f"http://gitea.localhost:{port}", resolve={"gitea.localhost": "127.0.0.1"},
                      retry=FAST, token=SECRET) as api, pytest.raises(HTTPServiceError) as err:
        api.version()
    text = str(err.value)
    assert text.startswith("Gitea: GET") and "gitopslab status" in text and SECRET not in text
    assert isinstance(err.value.__cause__, httpx.ConnectError)


def test_post_is_not_repeated_after_a_read_error():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ReadError("connection reset", request=request)

    with gitea_client("http://gitea.localhost:3000", transport=httpx.MockTransport(handler), retry=FAST) as api, \
            pytest.raises(HTTPServiceError):
        api.create_org({"username": "platform"})
    assert calls == ["POST"]


def test_401_names_the_service_and_the_fix():
    transport = httpx.MockTransport(lambda r: httpx.Response(401, json={"message": "token is required"}))
    with gitea_client("http://gitea.localhost:3000", token=SECRET, transport=transport, retry=FAST) as api, \
            pytest.raises(HTTPServiceError) as err:
        api.get_org("platform")
    assert "Gitea rejected the credentials (401" in err.value.message
    assert "gitopslab up" in (err.value.hint or "")


@pytest.mark.parametrize("status", [409, 422])
def test_conflict_and_unprocessable_carry_the_service_message(status):
    transport = httpx.MockTransport(lambda r: httpx.Response(status, json={"message": "team already exists"}))
    with gitea_client("http://gitea.localhost:3000", transport=transport, retry=FAST) as api, \
            pytest.raises(HTTPServiceError) as err:
        api.create_team("platform", {"name": "ml", "permission": "admin"})
    assert f"answered {status}" in str(err.value) and "team already exists" in str(err.value)


def test_secrets_never_in_errors_or_logs(caplog):
    """python-on-whales style: the secret is echoed back by the server, in a URL and in a header."""
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=f"internal error: password={SECRET} token {SECRET} "
                                        f"Authorization: {request.headers['authorization']}")

    caplog.set_level(logging.DEBUG)
    with gitea_client("http://gitea.localhost:3000", basic=("admin", SECRET),
                      transport=httpx.MockTransport(handler), retry=FAST) as api, \
            pytest.raises(HTTPServiceError) as err:
        api.create_token("admin", "gitopslab", ["write:user"])
    assert "answered 500" in str(err.value)
    assert SECRET not in str(err.value) and SECRET not in repr(err.value)
    assert SECRET not in caplog.text
    assert caplog.records  # the request was logged, without the secret


def test_timeout_is_explicit_and_transport_injectable():
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={}))
    client = make_client("http://x.localhost:1", timeout=3.0, transport=transport)
    assert client.timeout.connect == 3.0 and client.timeout.read == 3.0
    assert client.follow_redirects is False
    assert ServiceAPI(client).request("GET", "/").status_code == 200
