"""The Argo CD client against FakeArgoCD, a real HTTP server on 127.0.0.1 that follows the session and
applications API (bearer token from POST /api/v1/session, 401 without it)."""

from __future__ import annotations

import httpx
import pytest

from gitopslab.clients.argocd import AppStatus, ArgoCD
from gitopslab.errors import HTTPServiceError
from tests.fakes.cluster import FakeArgoCD, app

PASSWORD = "s3cr3t-Admin-pass"


@pytest.fixture
def server() -> FakeArgoCD:
    snapshots = [[app("root", "Synced", "Healthy"),
                  app("hello-api-dev", "OutOfSync", "Degraded", [{"type": "ComparisonError", "message": "repo not found"}])]]
    with FakeArgoCD(PASSWORD, snapshots) as fake:
        yield fake


def test_login_then_list_applications(server: FakeArgoCD) -> None:
    with ArgoCD(server.url, timeout=5, host_header="argocd.localhost:8081") as api:
        api.login("admin", PASSWORD)
        apps = api.applications()
    assert apps == [
        AppStatus("root", "Synced", "Healthy"),
        AppStatus("hello-api-dev", "OutOfSync", "Degraded", ("ComparisonError: repo not found",)),
    ]
    assert [a.ready for a in apps] == [True, False]
    assert server.requests[:2] == [("POST", "/api/v1/session"), ("GET", "/api/v1/applications")]


def test_refresh_and_sync(server: FakeArgoCD) -> None:
    with ArgoCD(server.url) as api:
        api.login("admin", PASSWORD)
        assert api.refresh("root").sync == "Synced"
        api.refresh("root", hard=True)
        api.sync("hello-api-dev")
    assert server.refreshed == [("root", "normal"), ("root", "hard")]
    assert server.synced == [{"name": "hello-api-dev", "prune": False}]


def test_wrong_password_is_a_clear_error_without_the_password(server: FakeArgoCD) -> None:
    with ArgoCD(server.url) as api, pytest.raises(HTTPServiceError) as err:
        api.login("admin", "wrong-password-123")
    assert "401" in err.value.message and "gitopslab up" in (err.value.hint or "")
    assert "wrong-password-123" not in str(err.value)


def test_calls_without_session_are_refused(server: FakeArgoCD) -> None:
    with ArgoCD(server.url) as api, pytest.raises(HTTPServiceError) as err:
        api.applications()
    assert "401" in err.value.message


def test_unknown_app_is_reported(server: FakeArgoCD) -> None:
    with ArgoCD(server.url) as api:
        api.login("admin", PASSWORD)
        with pytest.raises(HTTPServiceError) as err:
            api.refresh("nope")
    assert "404" in err.value.message and "nope" in err.value.message


def test_nothing_listening_is_translated(unused_port: int) -> None:
    with ArgoCD(f"http://127.0.0.1:{unused_port}", timeout=2) as api, pytest.raises(HTTPServiceError) as err:
        api.login("admin", PASSWORD)
    assert isinstance(err.value.__cause__, httpx.ConnectError)
    assert "did not answer" in err.value.message and PASSWORD not in str(err.value)


def test_injected_transport_and_explicit_timeout() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/session":
            return httpx.Response(200, json={"token": "tok"})
        return httpx.Response(200, json={"items": None})

    with ArgoCD("http://argocd.test", timeout=3.5, transport=httpx.MockTransport(handler)) as api:
        api.login("admin", PASSWORD)
        assert api.applications() == []
    assert seen[1].headers["Authorization"] == "Bearer tok"
    assert seen[0].extensions["timeout"] == {"connect": 3.5, "read": 3.5, "write": 3.5, "pool": 3.5}


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
