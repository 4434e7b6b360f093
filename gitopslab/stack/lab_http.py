"""How the stack modules reach the lab's HTTP services from the host: URLs from the topology, the
lab's names mapped to 127.0.0.1 by the client itself (split horizon), the configured timeout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from gitopslab.clients.gitea import GiteaClient, gitea_client
from gitopslab.clients.http import RetryPolicy, loopback_map
from gitopslab.clients.woodpecker import WoodpeckerClient, woodpecker_client


@dataclass(frozen=True)
class LabHTTP:
    gitea_url: str
    woodpecker_url: str
    resolve: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    retry: RetryPolicy | None = None
    transport: httpx.BaseTransport | None = None

    def gitea(self, *, token: str | None = None, basic: tuple[str, str] | None = None) -> GiteaClient:
        return gitea_client(self.gitea_url, token=token, basic=basic, transport=self.transport,
                            resolve=self.resolve, timeout=self.timeout, retry=self.retry)

    def woodpecker(self, token: str) -> WoodpeckerClient:
        return woodpecker_client(self.woodpecker_url, token=token, transport=self.transport,
                                 resolve=self.resolve, timeout=self.timeout, retry=self.retry)

    def client_options(self) -> dict[str, Any]:
        return {"transport": self.transport, "resolve": self.resolve, "timeout": self.timeout, "retry": self.retry}


def lab_http(ctx: Any, *, retry: RetryPolicy | None = None, transport: httpx.BaseTransport | None = None) -> LabHTTP:
    """From a gitopslab.context.Context."""
    return LabHTTP(
        gitea_url=ctx.topo.service("gitea").url,
        woodpecker_url=ctx.topo.service("woodpecker").url,
        resolve=loopback_map(ctx.topo.hostnames),
        timeout=float(ctx.cfg.timeouts.http),
        retry=retry,
        transport=transport,
    )


def gitea_as_admin(ctx: Any) -> GiteaClient:
    """Gitea with the admin's basic login: the package registries' uploads (the admin's token has no
    package scope)."""
    return lab_http(ctx).gitea(basic=(ctx.cfg.admin_user, ctx.state.secret("gitea_admin_password")))
