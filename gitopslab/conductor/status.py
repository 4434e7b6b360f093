"""`status`: the compose layer's services, k3d's view of the cluster, and Argo CD's apps, as data."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from gitopslab.conductor.wiring import cluster_layer_if_tools
from gitopslab.context import Context
from gitopslab.errors import LabError
from gitopslab.stack import compose_layer


def status(ctx: Context) -> dict[str, Any]:
    """`code` is 1 when some of the lab runs and some is not healthy, else 0 (running or all down)."""
    rows = compose_layer.status(ctx)
    cluster, apps = cluster_status(ctx)
    if ctx.topo.prd_cluster_name:
        cluster["prd"] = prd_status(ctx)
    present = [r for r in rows if r.state != "absent"]
    broken = [r for r in rows if not r.ok]
    return {"lab": ctx.topo.lab, "rows": rows, "present": bool(present), "broken": [r.service for r in broken],
            "code": 1 if present and broken else 0, "cluster": cluster, "apps": apps}


def prd_status(ctx: Context) -> dict[str, Any]:
    """k3d's view of the multicluster profile's production cluster."""
    from gitopslab.stack.prd_cluster import PrdClusterLayer

    layer, why_not = cluster_layer_if_tools(ctx)
    if layer is None:
        return {"exists": None, "note": why_not}
    try:
        return PrdClusterLayer(layer.ctx, layer.deps).status()
    except LabError as exc:
        return {"exists": None, "note": exc.message}


def cluster_status(ctx: Context) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """k3d's view of the cluster and Argo CD's app list; each says why when it cannot be read."""
    layer, why_not = cluster_layer_if_tools(ctx)
    if layer is None:
        return {"exists": None, "note": why_not}, []
    try:
        cluster = layer.status()
    except LabError as exc:
        return {"exists": None, "note": exc.message}, []
    if not cluster.get("running"):
        return cluster, []
    from gitopslab.stack import argocd_layer

    try:
        apps = [asdict(a) for a in argocd_layer.applications(layer)]
    except LabError as exc:
        cluster["apps_note"] = exc.message
        apps = []
    return cluster, apps
