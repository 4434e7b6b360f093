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
    prd = cluster.get("prd")
    if prd:  # multicluster: the production cluster, as k3d sees it
        if prd.get("exists") is None:
            out.print(f"production cluster: unknown ({prd.get('note')})", markup=False)
        elif not prd["exists"]:
            out.print(f"production cluster {prd.get('cluster')}: none (gitopslab up makes it)", markup=False)
        else:
            nodes = ", ".join(f"{n['name']} ({'running' if n['running'] else 'stopped'})" for n in prd["nodes"])
            out.print(f"production cluster {prd['cluster']}: {'running' if prd['running'] else 'stopped'}; {nodes}",
                      markup=False)


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from gitopslab.commands._options import context_from_args
    from gitopslab.conductor.status import status
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args, lab_profiles=True)  # the production cluster with multicluster
    result = status(ctx)
    rows, code, lab = result["rows"], result["code"], result["lab"]
    if ctx.json:
        print_json("status", {"lab": lab, "layer": "compose", "ok": code == 0, "running": result["present"],
                              "services": [r.as_dict() for r in rows], "cluster": result["cluster"],
                              "apps": result["apps"]})
        return int(code)
    out = console()
    _print_cluster(out, result["cluster"], result["apps"])
    if not result["present"]:
        out.print(f"lab {lab}: not running (`gitopslab up --name {lab}` starts it)", markup=False)
        return 0
    table = Table(title=f"lab {escape(lab)}: compose layer")
    for column in ("service", "container", "state", "health", "ports"):
        table.add_column(column)
    for r in rows:
        mark = "green" if r.ok else "red"
        table.add_row(escape(r.service), escape(r.container), f"[{mark}]{escape(r.state)}[/]", escape(r.health),
                      escape(", ".join(r.ports)))  # what the engine reports is data, never markup
    out.print(table)
    if result["broken"]:
        out.print(f"not healthy: {', '.join(result['broken'])}; "
                  f"`gitopslab up --name {lab}` brings them back, "
                  f"`gitopslab logs SERVICE --name {lab}` shows why", markup=False)
    return int(code)
