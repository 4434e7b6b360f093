"""`down`: stop the cluster (its disk is kept), then the compose layer (volumes and network kept)."""

from __future__ import annotations

from typing import Any

from gitopslab.conductor.wiring import cluster_layer_if_tools
from gitopslab.context import Context
from gitopslab.stack import compose_layer
from gitopslab.stack.prd_cluster import lab_prd_cluster


def down(ctx: Context) -> dict[str, Any]:
    """What was stopped, as data: the cluster's state with a note, and the compose layer's."""
    with ctx.state.lock("down"):
        layer, why_not = cluster_layer_if_tools(ctx)
        prd_note: dict[str, Any] | None = None
        if layer is not None:
            # the clusters first: their nodes sit on the compose layer's network
            prd = lab_prd_cluster(layer)
            if prd is not None and prd.stop():
                prd_note = {"state": "stopped", "note": f"{prd.name}: its disk is kept"}
            if layer.stop():
                cluster = {"state": "stopped", "note": "its disk is kept"}
            elif layer.k3d.cluster_get(layer.name):
                cluster = {"state": "not ours", "note": layer.foreign_note()}
            else:
                cluster = {"state": "absent", "note": "not found"}
        else:
            cluster = {"state": "unknown", "note": f"left as it is ({why_not})"}
        compose_layer.down(ctx)
    out = {"lab": ctx.topo.lab, "cluster": cluster, "compose": {"state": "stopped", "data_kept": True},
           "next": f"gitopslab up --name {ctx.topo.lab}"}
    return out | ({"cluster_prd": prd_note} if prd_note else {})
