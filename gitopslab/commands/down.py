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
    from gitopslab.conductor.plan import cluster_layer_if_tools
    from gitopslab.context import context_from_args
    from gitopslab.logsetup import to_file
    from gitopslab.stack import compose_layer
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args)
    lab = ctx.topo.lab
    with to_file(ctx.state, "down"), ctx.state.lock("down"):
        layer, why_not = cluster_layer_if_tools(ctx)
        if layer is not None:
            stopped = layer.stop()  # the cluster first: its nodes sit on the compose layer's network
            if stopped:
                cluster = {"state": "stopped", "note": "its disk is kept"}
            elif layer.k3d.cluster_get(layer.name):
                cluster = {"state": "not ours", "note": layer.foreign_note()}
            else:
                cluster = {"state": "absent", "note": "not found"}
        else:
            cluster = {"state": "unknown", "note": f"left as it is ({why_not})"}
        compose_layer.down(ctx)
    if ctx.json:
        print_json("down", {"lab": lab, "cluster": cluster, "compose": {"state": "stopped", "data_kept": True},
                            "next": f"gitopslab up --name {lab}"})
        return 0
    out = console()
    detail = "stopped; its disk is kept" if cluster["state"] == "stopped" else cluster["note"]
    out.print(f"lab {lab}: cluster {detail}", markup=False)
    out.print(f"lab {lab}: compose layer stopped; data kept (volumes and network). "
              f"`gitopslab up --name {lab}` starts it again.", markup=False)
    return 0
