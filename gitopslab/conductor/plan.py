"""The concrete steps of `up`, in order, gathered from the stack modules:

    [ compose.core -> seed.workspace -> delivery.image   ||   cluster (GPU image, k3d, edge, GPU runtime, extend) ]
    gitea.seed -> compose.woodpecker -> woodpecker.wire -> cluster.app-secrets
    -> argocd.install/configure/password/repository/bootstrap/webhook
    -> delivery.model (train, upload, pin) [-> argocd.profile-observability] -> argocd.synced
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitopslab.context import Context
from gitopslab.stack.step import FuncStep, Stage, Step

if TYPE_CHECKING:
    from gitopslab.stack.cluster_layer import ClusterLayer


class _EdgeFromCompose:
    """cluster_layer.EdgeControl backed by the compose layer's `edge` service."""

    def __init__(self) -> None:
        from gitopslab.stack import compose_layer

        self._step = compose_layer.edge_step()

    def running(self, ctx: Context) -> bool:
        return self._step.done(ctx)

    def start(self, ctx: Context) -> None:
        self._step.apply(ctx)


def cluster_layer(ctx: Context):  # type: ignore[no-untyped-def]
    """The cluster layer wired to this lab's engine, tools, edge and Gitea hooks."""
    from gitopslab.drivers import tools
    from gitopslab.stack.cluster_layer import ClusterDeps, ClusterLayer
    from gitopslab.stack.first_delivery import workspace
    from gitopslab.stack.gitea_hooks import GiteaRepoHooks

    info = ctx.engine()
    # Argo CD bootstraps from the same localized tree Gitea receives (stack/first_delivery.py).
    deps = ClusterDeps(k3d_bin=tools.path_of("k3d"), kubectl_bin=tools.path_of("kubectl"), engine_cli=info.cli,
                       edge=_EdgeFromCompose(), webhook=GiteaRepoHooks(), gitops_dir=workspace(ctx) / "gitops",
                       argocd_manifest=_offline_manifest(ctx))
    if ctx.cfg.offline:
        from gitopslab.offline.archive import bundle_dir
        from gitopslab.offline.fetch import bundled

        deps.fetch = bundled(bundle_dir(ctx))
    return ClusterLayer(ctx, deps)


def _offline_manifest(ctx: Context) -> str | None:
    """Offline, Argo CD's install manifest is the copy `bundle load` put in the state dir."""
    if not ctx.cfg.offline:
        return None
    from gitopslab.offline.archive import bundle_dir
    from gitopslab.offline.needs import ARGOCD_MANIFEST

    return str(bundle_dir(ctx) / ARGOCD_MANIFEST)


def cluster_layer_if_tools(ctx: Context):  # type: ignore[no-untyped-def]
    """The cluster layer, or None with the reason when k3d/kubectl or the engine are missing
    (`down`, `destroy` and `status` then act on the compose layer and say what they left)."""
    from gitopslab.errors import LabError

    try:
        return cluster_layer(ctx), None
    except LabError as exc:
        return None, exc.message


def _gitea_exec(ctx: Context):  # type: ignore[no-untyped-def]
    from gitopslab.drivers import engine
    from gitopslab.stack.gitea_seed import whales_exec

    return whales_exec(engine.client(ctx.engine()), f"{ctx.topo.lab}-gitea")


def up_stages(ctx: Context, layer: ClusterLayer) -> list[Stage]:
    from gitopslab.stack import (
        app_secrets,
        argocd_layer,
        cluster_additions,
        compose_layer,
        first_delivery,
        s3_users,
    )
    from gitopslab.stack.gitea_seed import gitea_seeded, seed_gitea
    from gitopslab.stack.woodpecker_wire import wire_woodpecker, woodpecker_wired

    core, woodpecker = compose_layer.steps(ctx)
    gitea_exec = _gitea_exec(ctx)
    secrets_step = FuncStep(
        "cluster.app-secrets", "credentials of MinIO, MLflow and hello-api in the cluster (kubectl, not git)",
        lambda c: app_secrets.applied(layer.kubectl(), c.cfg, c.state.secrets()),
        lambda c: app_secrets.apply(layer.kubectl(), c.cfg, c.state.secrets()),
    )
    stages: list[Stage] = [
        ([core, first_delivery.workspace_step(), first_delivery.image_step()],
         [*layer.cluster_steps(), cluster_additions.step(layer)]),
        FuncStep("gitea.seed", "seed Gitea: admin, token, org, teams, repos, branch protection, OAuth app",
                 lambda c: gitea_seeded(c, gitea_exec, content_root=first_delivery.workspace(c)),
                 lambda c: _discard(seed_gitea(c, gitea_exec, content_root=first_delivery.workspace(c)))),
        woodpecker,
        FuncStep("woodpecker.wire", "Woodpecker: sign in through Gitea, token, activate hello-api, secrets, cron",
                 woodpecker_wired, lambda c: _discard(wire_woodpecker(c))),
        secrets_step,
        *_before_final_wait(argocd_layer.argocd_steps(layer),
                            [s3_users.step(), first_delivery.model_step(), *argocd_layer.profile_steps(layer)]),
    ]
    return stages


def _before_final_wait(steps: list[Step], extra: list[Step]) -> list[Step]:
    """Steps that need Argo CD's apps deploying (the first model, profiles) run before its last wait."""
    return [*steps[:-1], *extra, steps[-1]]


def _discard(_: object) -> None:
    return None
