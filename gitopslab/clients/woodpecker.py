"""A small typed client of the Woodpecker 3.17 API (/api), limited to what the lab wires.

Every /api method is one operation of the upstream swagger (cmd/server/openapi/docs.go @ v3.17.0);
`/healthz` and `/version` live at the server ROOT, not under /api as that swagger claims.
List endpoints serve at most 50 items a page, whatever `perPage` asks (PAGE_SIZE): lists are read page by
page (`_paginated`).
API calls carry `Authorization: Bearer <personal token>`; getting that token without a browser is
`woodpecker_login.headless_token`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from gitopslab.clients.http import RetryPolicy, ServiceAPI, make_client
from gitopslab.errors import HTTPServiceError

API = "/api"
# server/router/middleware/session/pagination.go @ v3.17.0: `maxPageSize = 50`; a larger (or missing)
# `perPage` is served as 50, silently.
PAGE_SIZE = 50
# 10,000 items, far past what a lab creates: a server that never ends a list is an error, not a hang.
MAX_PAGES = 200


class WoodpeckerClient(ServiceAPI):
    service = "Woodpecker"
    auth_hint = (
        "the Woodpecker token in the lab's state is no longer valid (Woodpecker data reset, or the token "
        "was reset in its UI): run `gitopslab up` again; it signs in through Gitea and mints a new one"
    )

    # --- server (root paths) -----------------------------------------------------------------------
    def healthy(self) -> bool:
        return self.request("GET", "/healthz", expect=(204, 200), allow=(500,)).status_code != 500

    def version(self) -> str:
        return str(self.request("GET", "/version").json().get("version", ""))

    # --- user --------------------------------------------------------------------------------------
    def current_user(self) -> dict[str, Any] | None:
        """The token's user, or None when the token is refused (401)."""
        response = self.request("GET", f"{API}/user", allow=(401,))
        return None if response.status_code == 401 else dict(response.json())

    # --- repositories ------------------------------------------------------------------------------
    def lookup_repo(self, full_name: str) -> dict[str, Any] | None:
        """A repository Woodpecker knows (active or not), or None."""
        owner, _, name = full_name.partition("/")
        path = f"{API}/repos/lookup/{quote(owner, safe='')}/{quote(name, safe='')}"
        response = self.request("GET", path, allow=(404,))
        return None if response.status_code == 404 else dict(response.json())

    def activate_repo(self, forge_remote_id: str | int) -> dict[str, Any] | None:
        """Activate a forge repository; None when it is already active (409)."""
        response = self.request("POST", f"{API}/repos", params={"forge_remote_id": str(forge_remote_id)},
                                allow=(409,))
        return None if response.status_code == 409 else dict(response.json())

    # --- secrets -----------------------------------------------------------------------------------
    def list_secrets(self, repo_id: int) -> list[dict[str, Any]]:
        return self._paginated(f"{API}/repos/{repo_id}/secrets")

    def create_secret(self, repo_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        self._secrets.append(str(body.get("value") or ""))
        return dict(self.request("POST", f"{API}/repos/{repo_id}/secrets", json=dict(body)).json())

    def update_secret(self, repo_id: int, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self._secrets.append(str(body.get("value") or ""))
        path = f"{API}/repos/{repo_id}/secrets/{quote(name, safe='')}"
        return dict(self.request("PATCH", path, json=dict(body)).json())

    # --- cron --------------------------------------------------------------------------------------
    def list_crons(self, repo_id: int) -> list[dict[str, Any]]:
        return self._paginated(f"{API}/repos/{repo_id}/cron")

    def create_cron(self, repo_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", f"{API}/repos/{repo_id}/cron", json=dict(body)).json())

    def update_cron(self, repo_id: int, cron_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.request("PATCH", f"{API}/repos/{repo_id}/cron/{cron_id}", json=dict(body)).json())

    # --- paging -----------------------------------------------------------------------------------
    def _paginated(self, path: str) -> list[dict[str, Any]]:
        """Every item of a list endpoint, read as upstream's own shared/utils.Paginate does: page after
        page until one is empty or shorter than the first (so a server with a smaller cap is read whole too)."""
        items: list[dict[str, Any]] = []
        first = 0
        for page in range(1, MAX_PAGES + 1):
            # An empty list comes back as JSON null (the store's nil Go slice), seen on the real v3.17.0.
            batch = list(self.request("GET", path, params={"page": page, "perPage": PAGE_SIZE}).json() or [])
            items.extend(batch)
            if not batch or len(batch) < first:
                return items
            first = first or len(batch)
        raise HTTPServiceError(
            f"{self.service}: GET {path} still returned items after {MAX_PAGES} pages of {first}",
            hint=f"the server does not end this list; check {self.service}'s version (`gitopslab doctor`)")


def woodpecker_client(
    url: str,
    *,
    token: str,
    transport: httpx.BaseTransport | None = None,
    resolve: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    retry: RetryPolicy | None = None,
) -> WoodpeckerClient:
    headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
    http = make_client(url, timeout=timeout, transport=transport, resolve=resolve, retry=retry, headers=headers)
    return WoodpeckerClient(http, secrets=[token])
