"""`destroy`: the preview of what would go, and the removal: the cluster, the compose layer's objects
(only what carries the lab's label), the hosts-file block, and the stored settings."""

from __future__ import annotations

from typing import Any

from gitopslab.conductor.wiring import cluster_layer_if_tools
from gitopslab.context import Context
from gitopslab.drivers import hosts_file
from gitopslab.errors import LabError
from gitopslab.stack import compose_layer
from gitopslab.stack.prd_cluster import lab_prd_cluster


def preview(ctx: Context) -> dict[str, Any]:
    """What `destroy --yes` would remove; changes nothing."""
    layer, why_not = cluster_layer_if_tools(ctx)
    cluster = layer.preview() if layer is not None else f"cluster: not checked ({why_not})"
    prd = lab_prd_cluster(layer) if layer is not None else None
    extra = {"cluster_prd": prd.preview()} if prd is not None else {}
    return {**compose_layer.inventory(ctx).as_dict(), "cluster": cluster, **extra}


def destroy(ctx: Context) -> dict[str, Any]:
    """Remove everything of the lab; notes say what was left and how to finish."""
    with ctx.state.lock("destroy"):
        cluster_note = _remove_cluster(ctx)
        removed = compose_layer.destroy(ctx)
        hosts_note = _remove_hosts_block(ctx)
        # The lab is gone: the next `up` may use other settings (the recreate path of the settings guard).
        ctx.state.settings_file.unlink(missing_ok=True)
    return {"lab": ctx.topo.lab, "items": removed.as_dict(), "empty": removed.empty,
            "notes": [n for n in (cluster_note, hosts_note) if n]}


def _remove_cluster(ctx: Context) -> str:
    layer, why_not = cluster_layer_if_tools(ctx)
    if layer is None:
        return (f"cluster: not checked ({why_not}); if one exists, delete it with "
                f"`k3d cluster delete {ctx.topo.cluster_name}`")
    prd = lab_prd_cluster(layer)  # the production cluster (multicluster), only with the lab's label
    prd_note = f"cluster {prd.name}: deleted; " if prd is not None and prd.remove() else ""
    if layer.remove():
        return prd_note + "cluster: deleted"
    return layer.foreign_note() if layer.k3d.cluster_get(layer.name) else "cluster: none"


def _remove_hosts_block(ctx: Context) -> str | None:
    try:
        return "hosts file: lab block removed" if hosts_file.remove(ctx.topo.lab) else None
    except LabError as exc:  # typically no permission: the rest is gone, say how to finish
        args = "hosts --remove" + ("" if ctx.topo.lab == hosts_file.DEFAULT_LAB else f" --name {ctx.topo.lab}")
        return f"hosts file: block left ({exc.message}); remove it with: {hosts_file.elevated_hint(args)}"
