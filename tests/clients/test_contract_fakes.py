"""The fakes themselves: they must reject what the upstream swagger does not define, or they prove
nothing. Each case sends one bad request straight at a fake and checks the recorded violation."""

from __future__ import annotations

import httpx
import pytest

from gitopslab.clients.gitea import gitea_client
from gitopslab.clients.http import RetryPolicy
from gitopslab.clients.woodpecker import woodpecker_client
from tests.fakes.gitea import FakeGitea
from tests.fakes.swagger import ContractViolation, Spec

pytestmark = pytest.mark.contracts
FAST_RETRY = RetryPolicy(attempts=3, budget_s=5.0, wait_initial_s=0.01, wait_max_s=0.05)


def _admin(fake: FakeGitea) -> tuple[str, str]:
    fake.exec(["gitea", "admin", "user", "create", "--username", "root1", "--password", "pw-123456789",
               "--email", "r@x.y", "--admin", "--must-change-password=false"], user="git")
    return ("root1", "pw-123456789")


@pytest.mark.parametrize(("method", "path", "body", "query", "expected"), [
    ("POST", "/api/v1/orgs", {"username": "platform", "colour": "red"}, None, "Additional properties"),
    ("POST", "/api/v1/orgs", {"full_name": "no username"}, None, "'username' is a required property"),
    ("POST", "/api/v1/orgs", {"username": "p", "visibility": "secret"}, None, "is not one of"),
    ("PUT", "/api/v1/orgs/platform", {"username": "p"}, None, "method not defined"),
    ("GET", "/api/v1/organisations", None, None, "path not defined"),
    ("GET", "/api/v1/orgs/platform/teams", None, {"per_page": "5"}, "query parameter 'per_page'"),
    ("GET", "/api/v1/teams/abc", None, None, "must be an integer"),
    ("POST", "/api/v1/repos/platform/gitops/branch_protections", {"rule_name": "main", "push_whitelist": ["x"]},
     None, "Additional properties"),
    ("GET", "/api/v1/version", {"x": 1}, None, "takes no body"),
])
def test_gitea_fake_rejects_what_the_swagger_lacks(fake_gitea, method, path, body, query, expected):
    auth = _admin(fake_gitea)
    with httpx.Client(base_url=fake_gitea.direct_url, headers={"Host": f"gitea.localhost:{fake_gitea.port}"},
                      auth=auth) as client:
        response = client.request(method, path, json=body, params=query)
    assert response.status_code == 400
    assert len(fake_gitea.violations) == 1 and expected in fake_gitea.violations[0]
    fake_gitea.violations.clear()  # expected here; the fixture would fail the test otherwise


def test_woodpecker_fake_rejects_unknown_secret_fields_and_api_healthz(fake_woodpecker):
    host = {"Host": f"woodpecker.localhost:{fake_woodpecker.port}"}
    with httpx.Client(base_url=fake_woodpecker.direct_url, headers=host) as client:
        assert client.get("/api/healthz").status_code == 400
        assert client.post("/api/repos/1/secrets", json={"name": "a", "value": "b", "event": ["push"]}).status_code == 400
        assert client.get("/healthz").status_code == 204
    assert "path not defined" in fake_woodpecker.violations[0]
    assert "Additional properties" in fake_woodpecker.violations[1] and "'event'" in fake_woodpecker.violations[1]
    fake_woodpecker.violations.clear()


def test_fake_requires_the_lab_host_header(fake_gitea):
    with httpx.Client(base_url=fake_gitea.direct_url) as client:
        assert client.get("/api/v1/version").status_code == 400
    assert "Host header" in fake_gitea.violations.pop()


def test_spec_matches_literal_paths_before_parameters(woodpecker_spec: Spec):
    op = woodpecker_spec.validate("GET", "/api/repos/lookup/platform/hello-api", {}, None)
    assert op.template == "/repos/lookup/{repo_full_name}" and op.params == {"repo_full_name": "platform/hello-api"}
    with pytest.raises(ContractViolation, match="required query parameter 'forge_remote_id'"):
        woodpecker_spec.validate("POST", "/api/repos", {}, None)


def test_every_client_method_is_an_upstream_operation(fake_gitea, fake_woodpecker):
    """Drive every client method once; the fakes record a violation for anything undefined."""
    auth = _admin(fake_gitea)
    with gitea_client(fake_gitea.url, basic=auth, resolve={"gitea.localhost": "127.0.0.1"}, retry=FAST_RETRY) as basic:
        token = basic.create_token("root1", "t", ["write:organization", "write:repository", "write:user"])
        assert [t["name"] for t in basic.list_tokens("root1")] == ["t"]
    with gitea_client(fake_gitea.url, token=token, resolve={"gitea.localhost": "127.0.0.1"}, retry=FAST_RETRY) as api:
        assert api.version() == "1.26.3" and api.current_user()["login"] == "root1"
        api.create_org({"username": "platform"})
        team = api.create_team("platform", {"name": "ml", "permission": "read", "units_map": {"repo.code": "read"}})
        api.edit_team(team["id"], {"name": "ml", "permission": "write", "units_map": {"repo.code": "write"}})
        assert not api.is_team_member(team["id"], "root1")
        api.add_team_member(team["id"], "root1")
        assert api.is_team_member(team["id"], "root1") and len(api.list_teams("platform")) == 2
        repo = api.create_org_repo("platform", {"name": "r", "default_branch": "main"})
        assert api.get_repo("platform", "r")["id"] == repo["id"] and api.get_repo("platform", "nope") is None
        api.create_branch_protection("platform", "r", {"rule_name": "main", "required_approvals": 1})
        api.edit_branch_protection("platform", "r", "main", {"required_approvals": 2})
        assert api.get_branch_protection("platform", "r", "main")["required_approvals"] == 2
        app = api.create_oauth2_app({"name": "w", "redirect_uris": ["http://w/authorize"], "confidential_client": True})
        assert api.update_oauth2_app(app["id"], {"name": "w", "redirect_uris": ["http://w/authorize"],
                                                 "confidential_client": True})["client_secret"] != app["client_secret"]
        assert [a["name"] for a in api.list_oauth2_apps()] == ["w"]
    fake_woodpecker.tokens["tok"] = "root1"
    from tests.fakes.woodpecker import WPUser
    fake_woodpecker.users["root1"] = WPUser(1, "root1", "")
    with woodpecker_client(fake_woodpecker.url, token="tok", resolve={"woodpecker.localhost": "127.0.0.1"},
                           retry=FAST_RETRY) as wp:
        assert wp.healthy() and wp.version() == "3.17.0" and wp.current_user()["login"] == "root1"
        assert wp.lookup_repo("platform/r") is None
        assert wp.list_secrets(1) == [] and wp.list_crons(1) == []
