"""The Gitea side of Argo CD's push webhook: a hook on platform/gitops that posts to Argo CD's
`/api/webhook` (Argo CD parses Gitea payloads with its Gogs handler), created through Gitea's API."""

from __future__ import annotations

from gitopslab.context import Context
from gitopslab.errors import LabError
from gitopslab.stack.argocd_layer import gitea_hook_body
from gitopslab.stack.gitea.rbac import ORG
from gitopslab.stack.lab_http import lab_http

REPO = "gitops"


class GiteaRepoHooks:
    """Implements cluster_layer.WebhookRegistrar with the seeding step's API token."""

    def __init__(self, owner: str = ORG, repo: str = REPO) -> None:
        self.owner, self.repo = owner, repo

    def _token(self, ctx: Context) -> str:
        token = ctx.state.secrets().get("gitea_token")
        if not token:
            raise LabError("no Gitea API token in the lab's state (the Gitea seeding step mints it)",
                           hint="run `gitopslab up`: it seeds Gitea before wiring Argo CD")
        return token

    def exists(self, ctx: Context, url: str) -> bool:
        with lab_http(ctx).gitea(token=self._token(ctx)) as api:
            return any((h.get("config") or {}).get("url") == url for h in api.list_hooks(self.owner, self.repo))

    def create(self, ctx: Context, url: str, secret: str) -> None:
        with lab_http(ctx).gitea(token=self._token(ctx)) as api:
            api.create_hook(self.owner, self.repo, gitea_hook_body(url, secret))
