"""`down`: stop the cluster (its disk is kept), then the compose layer (volumes and network kept)."""

from __future__ import annotations

from typing import Any

from gitopslab.conductor.wiring import cluster_layer_if_tools
from gitopslab.context import Context
from gitopslab.stack import compose_layer


def down(ctx: Context) -> dict[str, Any]:
    """What was stopped, as data: the cluster's state with a note, and the compose layer's."""
    with ctx.state.lock("down"):
        layer, why_not = cluster_layer_if_tools(ctx)
        if layer is not None:
            # the cluster first: its nodes sit on the compose layer's network
            if layer.stop():
                cluster = {"state": "stopped", "note": "its disk is kept"}
            elif layer.k3d.cluster_get(layer.name):
                cluster = {"state": "not ours", "note": layer.foreign_note()}
            else:
                cluster = {"state": "absent", "note": "not found"}
        else:
            cluster = {"state": "unknown", "note": f"left as it is ({why_not})"}
        compose_layer.down(ctx)
    return {"lab": ctx.topo.lab, "cluster": cluster, "compose": {"state": "stopped", "data_kept": True},
            "next": f"gitopslab up --name {ctx.topo.lab}"}
