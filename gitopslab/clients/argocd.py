"""A small Argo CD REST client (v3.5): session login, the application list, refresh and sync.

It knows HTTP, not the lab: the caller gives the base URL (the lab maps `argocd.localhost` to
127.0.0.1 itself and passes the name as the Host header). Explicit timeouts; tests inject a transport
or point it at a fake server. Failures become `HTTPServiceError` with a hint, the password stripped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from gitopslab.errors import HTTPServiceError, redact


@dataclass(frozen=True)
class AppStatus:
    name: str
    sync: str        # Synced | OutOfSync | Unknown
    health: str      # Healthy | Progressing | Degraded | Suspended | Missing | Unknown
    conditions: tuple[str, ...] = field(default_factory=tuple)
    operation: str = ""

    @property
    def ready(self) -> bool:
        return self.sync == "Synced" and self.health == "Healthy"

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> AppStatus:
        status = item.get("status") or {}
        conditions = tuple(f"{c.get('type', '?')}: {c.get('message', '')}" for c in status.get("conditions") or [])
        operation = (status.get("operationState") or {}).get("message", "")
        return cls(
            name=str((item.get("metadata") or {}).get("name", "?")),
            sync=str((status.get("sync") or {}).get("status") or "Unknown"),
            health=str((status.get("health") or {}).get("status") or "Unknown"),
            conditions=conditions,
            operation=str(operation or ""),
        )


class ArgoCD:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | httpx.Timeout = 10.0,
        transport: httpx.BaseTransport | None = None,
        host_header: str | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if host_header:
            headers["Host"] = host_header
        self._secrets: list[str] = []
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            transport=transport,
            headers=headers,
            follow_redirects=False,
        )

    def __enter__(self) -> ArgoCD:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- calls -----------------------------------------------------------------------------------
    def login(self, username: str, password: str) -> None:
        """`POST /api/v1/session` -> bearer token, used for every later call."""
        self._secrets.append(password)
        data = self._call("POST", "/api/v1/session", json={"username": username, "password": password},
                          what="log in")
        token = data.get("token") if isinstance(data, dict) else None
        if not token:
            raise HTTPServiceError("Argo CD answered the login without a token",
                                   hint="check Argo CD's version: `gitopslab doctor`")
        self._secrets.append(token)
        self._http.headers["Authorization"] = f"Bearer {token}"

    def applications(self) -> list[AppStatus]:
        data = self._call("GET", "/api/v1/applications", what="list applications")
        return [AppStatus.from_item(item) for item in (data.get("items") or [])]

    def refresh(self, name: str, hard: bool = False) -> AppStatus:
        data = self._call("GET", f"/api/v1/applications/{name}",
                          params={"refresh": "hard" if hard else "normal"}, what=f"refresh {name}")
        return AppStatus.from_item(data)

    def sync(self, name: str, prune: bool = False) -> dict[str, Any]:
        return dict(self._call("POST", f"/api/v1/applications/{name}/sync",
                               json={"name": name, "prune": prune}, what=f"sync {name}"))

    # --- the one place errors are translated -----------------------------------------------------
    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise HTTPServiceError(
                f"Argo CD at {self._http.base_url} did not answer ({what}): {redact(str(exc), self._secrets)}",
                hint="is the cluster up? `gitopslab status`, then `gitopslab doctor`",
            ) from exc
        if response.status_code == 401:
            raise HTTPServiceError(f"Argo CD refused the credentials ({what}): 401",
                                   hint="the admin password in state is stale: run `gitopslab up` to read it again")
        if response.status_code >= 400:
            body = redact(response.text[:300], self._secrets)
            raise HTTPServiceError(f"Argo CD answered {response.status_code} ({what}): {body}",
                                   hint="see Argo CD's server log: `gitopslab logs argocd`")
        try:
            return response.json()
        except ValueError as exc:
            raise HTTPServiceError(f"Argo CD answered {what} with something that is not JSON",
                                   hint="is another program on Argo CD's port? `gitopslab doctor`") from exc
