"""Woodpecker serves at most 50 items a page whatever `perPage` asks (server/router/middleware/session/
pagination.go @ v3.17.0): the client reads every page, so a repository with more secrets or crons than
that is seen whole (a secret missed there would be created again and refused with 409)."""

from __future__ import annotations

import httpx
import pytest

from gitopslab.clients import woodpecker
from gitopslab.clients.http import RetryPolicy
from gitopslab.clients.woodpecker import woodpecker_client
from gitopslab.errors import HTTPServiceError
from tests.fakes.woodpecker import FakeWoodpecker, WPUser

pytestmark = pytest.mark.contracts
FAST_RETRY = RetryPolicy(attempts=3, budget_s=5.0, wait_initial_s=0.01, wait_max_s=0.05)
REPO_ID = 7


def _client(fake: FakeWoodpecker) -> woodpecker.WoodpeckerClient:
    fake.users["root1"] = WPUser(1, "root1", "")
    fake.tokens["tok"] = "root1"
    fake.repos[REPO_ID] = {"id": REPO_ID, "forge_remote_id": "1", "full_name": "platform/r", "owner": "platform",
                           "name": "r", "active": True, "default_branch": "main"}
    return woodpecker_client(fake.url, token="tok", resolve={"woodpecker.localhost": "127.0.0.1"}, retry=FAST_RETRY)


def _seed(fake: FakeWoodpecker, secrets: int = 0, crons: int = 0) -> None:
    """Stored as the fake's create handlers store them (creating hundreds through HTTP only costs time)."""
    store = fake.secrets.setdefault(REPO_ID, {})
    for i in range(secrets):
        store[f"secret_{i:03}"] = {"id": 1000 + i, "repo_id": REPO_ID, "images": [], "name": f"secret_{i:03}",
                                   "value": f"value-{i}", "events": ["push"]}
    table = fake.crons.setdefault(REPO_ID, {})
    for i in range(crons):
        table[2000 + i] = {"id": 2000 + i, "repo_id": REPO_ID, "creator_id": 1, "name": f"cron-{i:02}",
                           "schedule": "0 3 * * *", "branch": "main", "enabled": True}


def test_the_server_cuts_a_page_at_50(fake_woodpecker: FakeWoodpecker) -> None:
    with _client(fake_woodpecker) as wp:
        _seed(fake_woodpecker, secrets=60)
        asked = wp.request("GET", f"/api/repos/{REPO_ID}/secrets", params={"perPage": 100}).json()
    assert len(asked) == 50


def test_every_secret_and_cron_past_the_first_page_is_listed(fake_woodpecker: FakeWoodpecker) -> None:
    with _client(fake_woodpecker) as wp:
        # One of each through the API, so the listed objects are the ones the server makes.
        wp.create_secret(REPO_ID, {"name": "secret_122", "value": "value-122", "events": ["push"]})
        wp.create_cron(REPO_ID, {"name": "cron-50", "schedule": "0 3 * * *", "branch": "main", "enabled": True})
        _seed(fake_woodpecker, secrets=122, crons=50)
        secrets = wp.list_secrets(REPO_ID)
        crons = wp.list_crons(REPO_ID)
    assert [s["name"] for s in secrets] == [f"secret_{i:03}" for i in range(123)]
    assert [c["name"] for c in crons] == [f"cron-{i:02}" for i in range(51)]
    assert all("value" not in s for s in secrets)


def test_exactly_a_full_page_and_an_empty_list(fake_woodpecker: FakeWoodpecker) -> None:
    with _client(fake_woodpecker) as wp:
        assert wp.list_secrets(REPO_ID) == []
        _seed(fake_woodpecker, secrets=100)
        assert len(wp.list_secrets(REPO_ID)) == 100


def test_a_list_that_never_ends_is_an_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(woodpecker, "MAX_PAGES", 4)
    pages: list[str] = []

    def endless(request: httpx.Request) -> httpx.Response:
        pages.append(request.url.params["page"])
        return httpx.Response(200, json=[{"name": f"x{len(pages)}-{i}"} for i in range(50)])

    with woodpecker_client("http://woodpecker.localhost:8000", token="t", transport=httpx.MockTransport(endless),
                           retry=FAST_RETRY) as wp, pytest.raises(HTTPServiceError, match="after 4 pages"):
        wp.list_crons(REPO_ID)
    assert pages == ["1", "2", "3", "4"]
