"""The concrete steps of `up`, in order, gathered from the stack modules:

    [ compose.core (Gitea, registry)  ||  cluster (GPU image, k3d, edge, GPU runtime) ]
    gitea.seed -> compose.woodpecker -> woodpecker.wire -> cluster.app-secrets
    -> delivery (initial model + image) -> argocd (install, configure, repo, bootstrap, webhook, wait)
"""

from __future__ import annotations

from gitopslab.context import Context
from gitopslab.orchestrator import FuncStep, Stage, Step


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
    from gitopslab import engine, tools
    from gitopslab.stack.cluster_layer import ClusterDeps, ClusterLayer
    from gitopslab.stack.gitea_hooks import GiteaRepoHooks

    info = engine.detect(ctx.cfg.engine)
    deps = ClusterDeps(k3d_bin=tools.path_of("k3d"), kubectl_bin=tools.path_of("kubectl"), engine_cli=info.cli,
                       edge=_EdgeFromCompose(), webhook=GiteaRepoHooks())
    return ClusterLayer(ctx, deps)


def cluster_layer_if_tools(ctx: Context):  # type: ignore[no-untyped-def]
    """The cluster layer, or None with the reason when k3d/kubectl or the engine are missing
    (`down`, `destroy` and `status` then act on the compose layer and say what they left)."""
    from gitopslab.errors import LabError

    try:
        return cluster_layer(ctx), None
    except LabError as exc:
        return None, exc.message


def _gitea_exec(ctx: Context):  # type: ignore[no-untyped-def]
    from gitopslab import engine
    from gitopslab.stack.gitea_seed import whales_exec

    return whales_exec(engine.client(engine.detect(ctx.cfg.engine)), f"{ctx.topo.lab}-gitea")


def up_stages(ctx: Context) -> list[Stage]:
    from gitopslab.stack import app_secrets, argocd_layer, compose_layer
    from gitopslab.stack.gitea_seed import gitea_seeded, seed_gitea
    from gitopslab.stack.woodpecker_wire import wire_woodpecker, woodpecker_wired

    layer = cluster_layer(ctx)
    layer.refuse_incompatible()
    core, woodpecker = compose_layer.steps(ctx)
    gitea_exec = _gitea_exec(ctx)
    secrets_step = FuncStep(
        "cluster.app-secrets", "credentials of MinIO, MLflow and hello-api in the cluster (kubectl, not git)",
        lambda c: app_secrets.applied(layer.kubectl(), c.cfg, c.state.secrets()),
        lambda c: app_secrets.apply(layer.kubectl(), c.cfg, c.state.secrets()),
    )
    stages: list[Stage] = [
        ([core], layer.cluster_steps()),
        FuncStep("gitea.seed", "seed Gitea: admin, token, org, teams, repos, branch protection, OAuth app",
                 lambda c: gitea_seeded(c, gitea_exec), lambda c: _seed(c, gitea_exec, seed_gitea)),
        woodpecker,
        FuncStep("woodpecker.wire", "Woodpecker: sign in through Gitea, token, activate hello-api, secrets, cron",
                 woodpecker_wired, lambda c: _discard(wire_woodpecker(c))),
        secrets_step,
        *_delivery_steps(ctx),
        *_with_profiles(ctx, layer, argocd_layer.argocd_steps(layer)),
    ]
    return stages


def _with_profiles(ctx: Context, layer, steps: list[Step]) -> list[Step]:  # type: ignore[no-untyped-def]
    """The optional profiles' entry Applications go in before the final Synced/Healthy wait."""
    if not ctx.cfg.observability:
        return steps
    from gitopslab.resources import content_path

    entry = content_path("gitops") / "profiles" / "observability.yaml"
    step = FuncStep("argocd.profile-observability", "observability profile: Prometheus, Grafana, alerts, HPA",
                    lambda c: layer.kubectl().exists("application", "platform-observability", "argocd") is not None,
                    lambda c: _discard(layer.kubectl().apply(path=entry, force_conflicts=True)))
    return [*steps[:-1], step, steps[-1]]


def _seed(ctx: Context, gitea_exec, seed) -> None:  # type: ignore[no-untyped-def]
    seed(ctx, gitea_exec)


def _discard(_: object) -> None:
    return None


def _delivery_steps(ctx: Context) -> list[Step]:
    """The first delivery (model + image) so the lab is whole right after `up`; see stack/delivery.py."""
    try:
        from gitopslab.stack import delivery
    except ImportError:
        return []
    return list(delivery.steps(ctx))
