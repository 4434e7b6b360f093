"""A small typed client of the Gitea 1.26 REST API (/api/v1), limited to what the lab seeds.

Every method is one operation of the upstream swagger (templates/swagger/v1_json.tmpl @ v1.26.3);
tests run it against a fake that rejects anything that spec does not define. Look-ups return None
for 404 so the seeding steps can read "check, then apply".

Auth: `Authorization: token <t>` for everything but token management, which Gitea allows only with
basic auth (user + password).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from gitopslab.clients.http import RetryPolicy, ServiceAPI, make_client
from gitopslab.errors import HTTPServiceError

API = "/api/v1"


def _seg(value: str | int) -> str:
    return quote(str(value), safe="")


class GiteaClient(ServiceAPI):
    service = "Gitea"
    auth_hint = (
        "the Gitea API token or admin password in the lab's state no longer matches Gitea "
        "(Gitea data reset, or state copied from another lab): run `gitopslab up` again to mint a "
        "new token; if the admin password itself is refused, `gitopslab creds` shows what is stored"
    )

    # --- server ------------------------------------------------------------------------------------
    def version(self) -> str:
        return str(self.request("GET", f"{API}/version").json().get("version", ""))

    def current_user(self) -> dict[str, Any] | None:
        """The authenticated user, or None when the credentials are refused (401)."""
        response = self.request("GET", f"{API}/user", allow=(401,))
        return None if response.status_code == 401 else response.json()

    # --- tokens (basic auth only) ------------------------------------------------------------------
    def get_user(self, username: str) -> dict[str, Any] | None:
        return self._get_or_none(f"{API}/users/{_seg(username)}")

    def admin_create_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", f"{API}/admin/users", json=dict(body), expect=(201,)).json())

    def team_has_repo(self, team_id: int, org: str, repo: str) -> bool:
        return self._get_or_none(f"{API}/teams/{int(team_id)}/repos/{_seg(org)}/{_seg(repo)}") is not None

    def add_team_repo(self, team_id: int, org: str, repo: str) -> None:
        self.request("PUT", f"{API}/teams/{int(team_id)}/repos/{_seg(org)}/{_seg(repo)}", expect=(204,))

    def admin_set_password(self, username: str, password: str) -> None:
        """Set a local user's password (site admin only); the body, unlike an argv, is not in `ps`."""
        body = {"login_name": username, "source_id": 0, "password": password, "must_change_password": False}
        self.request("PATCH", f"{API}/admin/users/{_seg(username)}", json=body)

    def list_tokens(self, username: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"{API}/users/{_seg(username)}/tokens", params={"limit": 50}).json())

    def create_token(self, username: str, name: str, scopes: Sequence[str]) -> str:
        body = {"name": name, "scopes": list(scopes)}
        data = self.request("POST", f"{API}/users/{_seg(username)}/tokens", json=body, expect=(201,)).json()
        token = data.get("sha1") or ""
        if not token:
            raise HTTPServiceError("Gitea created the token but returned no value (field `sha1`)",
                                   hint="delete the token in Gitea (Settings > Applications) and run again")
        self._secrets.append(token)
        return str(token)

    def delete_token(self, username: str, name_or_id: str | int) -> None:
        self.request("DELETE", f"{API}/users/{_seg(username)}/tokens/{_seg(name_or_id)}", expect=(204,))

    # --- repository webhooks -----------------------------------------------------------------------
    def list_hooks(self, owner: str, repo: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"{API}/repos/{_seg(owner)}/{_seg(repo)}/hooks").json())

    def create_hook(self, owner: str, repo: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", f"{API}/repos/{_seg(owner)}/{_seg(repo)}/hooks", json=dict(body),
                                 expect=(201,)).json())

    # --- organizations and teams -------------------------------------------------------------------
    def get_org(self, org: str) -> dict[str, Any] | None:
        return self._get_or_none(f"{API}/orgs/{_seg(org)}")

    def create_org(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", f"{API}/orgs", json=dict(body), expect=(201,)).json())

    def list_teams(self, org: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"{API}/orgs/{_seg(org)}/teams", params={"limit": 50}).json())

    def create_team(self, org: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", f"{API}/orgs/{_seg(org)}/teams", json=dict(body), expect=(201,)).json())

    def edit_team(self, team_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.request("PATCH", f"{API}/teams/{team_id}", json=dict(body)).json())

    def is_team_member(self, team_id: int, username: str) -> bool:
        path = f"{API}/teams/{team_id}/members/{_seg(username)}"
        return self.request("GET", path, allow=(404,)).status_code == 200

    def add_team_member(self, team_id: int, username: str) -> None:
        self.request("PUT", f"{API}/teams/{team_id}/members/{_seg(username)}", expect=(204,))

    # --- repositories ------------------------------------------------------------------------------
    def get_repo(self, owner: str, repo: str) -> dict[str, Any] | None:
        return self._get_or_none(f"{API}/repos/{_seg(owner)}/{_seg(repo)}")

    def can_read(self, owner: str, repo: str) -> bool:
        """Whether these credentials read the repository: False for a refused (401) or stale token too."""
        response = self.request("GET", f"{API}/repos/{_seg(owner)}/{_seg(repo)}", allow=(401, 403, 404))
        return response.status_code == 200

    def branch_names(self, owner: str, repo: str) -> list[str]:
        """Branches as Gitea has recorded them (`null` while a first push is still queued)."""
        found = self.request("GET", f"{API}/repos/{_seg(owner)}/{_seg(repo)}/branches").json() or []
        return [str(b["name"]) for b in found]

    def create_org_repo(self, org: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", f"{API}/orgs/{_seg(org)}/repos", json=dict(body), expect=(201,)).json())

    def get_branch_protection(self, owner: str, repo: str, rule: str) -> dict[str, Any] | None:
        return self._get_or_none(f"{API}/repos/{_seg(owner)}/{_seg(repo)}/branch_protections/{_seg(rule)}")

    def create_branch_protection(self, owner: str, repo: str, body: Mapping[str, Any]) -> dict[str, Any]:
        path = f"{API}/repos/{_seg(owner)}/{_seg(repo)}/branch_protections"
        return dict(self.request("POST", path, json=dict(body), expect=(201,)).json())

    def edit_branch_protection(self, owner: str, repo: str, rule: str, body: Mapping[str, Any]) -> dict[str, Any]:
        path = f"{API}/repos/{_seg(owner)}/{_seg(repo)}/branch_protections/{_seg(rule)}"
        return dict(self.request("PATCH", path, json=dict(body)).json())

    # --- OAuth2 applications (per user; there is no site-wide API) -----------------------------------
    def list_oauth2_apps(self) -> list[dict[str, Any]]:
        return list(self.request("GET", f"{API}/user/applications/oauth2", params={"limit": 50}).json())

    def create_oauth2_app(self, body: Mapping[str, Any]) -> dict[str, Any]:
        data = dict(self.request("POST", f"{API}/user/applications/oauth2", json=dict(body), expect=(201,)).json())
        self._secrets.append(str(data.get("client_secret") or ""))
        return data

    def update_oauth2_app(self, app_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        """Update an app. Gitea generates a NEW client secret on every update and returns it."""
        data = dict(self.request("PATCH", f"{API}/user/applications/oauth2/{app_id}", json=dict(body)).json())
        self._secrets.append(str(data.get("client_secret") or ""))
        return data

    # --- packages (the PyPI registry: routers/api/packages/pypi, not part of /api/v1) -----------------
    def upload_pypi(self, owner: str, filename: str, content: bytes, name: str, version: str) -> bool:
        """One distribution file into `owner`'s PyPI registry (twine's legacy upload form); False when
        the registry already holds that file (409), so a second upload changes nothing."""
        fields = {"name": name, "version": version, "sha256_digest": hashlib.sha256(content).hexdigest()}
        response = self.request("POST", f"/api/packages/{_seg(owner)}/pypi", expect=(201,), allow=(409,),
                                data=fields, files={"content": (filename, content, "application/octet-stream")})
        return response.status_code == 201

    def upload_helm(self, owner: str, content: bytes) -> None:
        """One chart package into `owner`'s Helm registry (its `helm cm-push` route). Unlike the PyPI
        registry, it replaces a version it holds (v1.26.4 routers/api/packages/helm: OverwriteExisting),
        so uploading the same package again leaves the same chart."""
        self.request("POST", f"/api/packages/{_seg(owner)}/helm/api/charts", expect=(201,),
                     content=content, headers={"Content-Type": "application/octet-stream"})

    # --- helpers -----------------------------------------------------------------------------------
    def _get_or_none(self, path: str) -> dict[str, Any] | None:
        response = self.request("GET", path, allow=(404,))
        return None if response.status_code == 404 else dict(response.json())


def gitea_client(
    url: str,
    *,
    token: str | None = None,
    basic: tuple[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    resolve: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    retry: RetryPolicy | None = None,
) -> GiteaClient:
    """A Gitea client for `url` (e.g. http://gitea.localhost:3000) with a token or basic auth."""
    headers = {"Accept": "application/json"}
    secrets: list[str] = []
    if token:
        headers["Authorization"] = f"token {token}"
        secrets.append(token)
    if basic:
        secrets.append(basic[1])
    http = make_client(url, timeout=timeout, transport=transport, resolve=resolve, retry=retry,
                       headers=headers, auth=basic)
    return GiteaClient(http, secrets=secrets)
