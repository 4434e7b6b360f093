"""`gitopslab down`: stop the compose layer and keep its data (volumes) and its network."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Stop the lab and keep its data.

Stops the k3d cluster (its disk is kept) and
removes the compose layer's containers; keeps its volumes (Gitea, Woodpecker and registry data)
and the lab network, so `gitopslab up` brings everything back as it was."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)


def run(args: argparse.Namespace) -> int:
    from gitopslab.commands._options import context_from_args
    from gitopslab.conductor.down import down
    from gitopslab.logsetup import to_file
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args)
    with to_file(ctx.state, "down"):
        result = down(ctx)
    if ctx.json:
        print_json("down", result)
        return 0
    lab, cluster, out = result["lab"], result["cluster"], console()
    detail = "stopped; its disk is kept" if cluster["state"] == "stopped" else cluster["note"]
    out.print(f"lab {lab}: cluster {detail}", markup=False)
    if result.get("cluster_prd"):  # multicluster: the production cluster
        out.print(f"lab {lab}: production cluster {result['cluster_prd']['note']}", markup=False)
    out.print(f"lab {lab}: compose layer stopped; data kept (volumes and network). "
              f"`gitopslab up --name {lab}` starts it again.", markup=False)
    return 0
