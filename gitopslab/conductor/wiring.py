"""The wiring of components: the cluster layer with this lab's engine, tools, edge and Gitea hooks (and,
offline, the bundle's files), and the exec into the lab's Gitea container. `up`, `down`, `destroy` and
`status` all get their layers here."""

from __future__ import annotations

from gitopslab.context import Context


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
    from gitopslab.stack.delivery import workspace
    from gitopslab.stack.gitea.hooks import GiteaRepoHooks

    info = ctx.engine()
    # Argo CD bootstraps from the same localized tree Gitea receives (stack/delivery.py).
    deps = ClusterDeps(k3d_bin=_k3d(ctx), kubectl_bin=tools.path_of("kubectl"), engine_cli=info.cli,
                       edge=_EdgeFromCompose(), webhook=GiteaRepoHooks(), gitops_dir=workspace(ctx) / "gitops",
                       argocd_manifest=_offline_manifest(ctx))
    if ctx.cfg.offline:
        from gitopslab.offline.archive import bundle_dir
        from gitopslab.offline.fetch import bundled

        deps.fetch = bundled(bundle_dir(ctx))
    return ClusterLayer(ctx, deps)


def _k3d(ctx: Context) -> str:
    """Offline, the pinned k3d wherever it is: k3d pulls its helper images tagged with its own version
    and the bundle carries the pinned version's (`up --offline` refused a lab without it,
    offline/ready.py; down, destroy and status still take any k3d)."""
    from gitopslab.drivers import tools

    if ctx.cfg.offline and tools.find("k3d", exact=True).ok:
        return tools.path_of("k3d", exact=True)
    return tools.path_of("k3d")


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


def gitea_exec(ctx: Context):  # type: ignore[no-untyped-def]
    from gitopslab.drivers import engine
    from gitopslab.stack.gitea.seed import whales_exec

    return whales_exec(engine.client(ctx.engine()), f"{ctx.topo.lab}-gitea")
