"""`gitopslab status`: the compose layer's containers, their state and health."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """What runs, and how healthy it is: each compose-layer service with its container,
state, health and published ports. Exit 0 when every service is running and healthy (or the lab is
down: no container at all), 1 when some are and some are not. With --json, `ok` is exactly "exit 0"
and `running` says whether any of the lab runs."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)


def _cluster_status(ctx):  # type: ignore[no-untyped-def]
    """k3d's view of the cluster and Argo CD's app list; each says why when it cannot be read."""
    from dataclasses import asdict

    from gitopslab.conductor.plan import cluster_layer_if_tools
    from gitopslab.errors import LabError

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


def _print_cluster(out, cluster, apps) -> None:  # type: ignore[no-untyped-def]
    if cluster.get("exists") is None:
        out.print(f"cluster: unknown ({cluster.get('note')})", markup=False)
    elif not cluster["exists"]:
        out.print("cluster: none", markup=False)
    else:
        nodes = ", ".join(f"{n['name']} ({'running' if n['running'] else 'stopped'})" for n in cluster["nodes"])
        out.print(f"cluster {cluster['cluster']}: {'running' if cluster['running'] else 'stopped'}; {nodes}",
                  markup=False)
    for app in apps:
        out.print(f"  app {app.get('name')}: {app.get('sync')} / {app.get('health')}", markup=False)
    if cluster.get("apps_note"):
        out.print(f"  Argo CD apps unknown: {cluster['apps_note']}", markup=False)


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from gitopslab.context import context_from_args
    from gitopslab.stack import compose_layer
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args)
    rows = compose_layer.status(ctx)
    cluster, apps = _cluster_status(ctx)
    present = [r for r in rows if r.state != "absent"]
    broken = [r for r in rows if not r.ok]
    code = 1 if present and broken else 0
    if ctx.json:
        print_json("status", {"lab": ctx.topo.lab, "layer": "compose", "ok": code == 0, "running": bool(present),
                              "services": [r.as_dict() for r in rows], "cluster": cluster, "apps": apps})
        return code
    out = console()
    _print_cluster(out, cluster, apps)
    if not present:
        out.print(f"lab {ctx.topo.lab}: not running (`gitopslab up --name {ctx.topo.lab}` starts it)", markup=False)
        return 0
    table = Table(title=f"lab {escape(ctx.topo.lab)}: compose layer")
    for column in ("service", "container", "state", "health", "ports"):
        table.add_column(column)
    for r in rows:
        mark = "green" if r.ok else "red"
        table.add_row(escape(r.service), escape(r.container), f"[{mark}]{escape(r.state)}[/]", escape(r.health),
                      escape(", ".join(r.ports)))  # what the engine reports is data, never markup
    out.print(table)
    if broken:
        out.print(f"not healthy: {', '.join(r.service for r in broken)}; "
                  f"`gitopslab up --name {ctx.topo.lab}` brings them back, "
                  f"`gitopslab logs SERVICE --name {ctx.topo.lab}` shows why", markup=False)
    return code
