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
    from gitopslab.context import context_from_args
    from gitopslab.stack import compose_layer
    from gitopslab.stages import cluster_layer_if_tools
    from gitopslab.ui import console

    ctx = context_from_args(args)
    out = console()
    with ctx.state.lock("down"):
        layer, why_not = cluster_layer_if_tools(ctx)
        if layer is not None:
            stopped = layer.stop()  # the cluster first: its nodes sit on the compose layer's network
            out.print(f"lab {ctx.topo.lab}: cluster {'stopped; its disk is kept' if stopped else 'not found'}",
                      markup=False)
        else:
            out.print(f"lab {ctx.topo.lab}: cluster left as it is ({why_not})", markup=False)
        compose_layer.down(ctx)
    out.print(f"lab {ctx.topo.lab}: compose layer stopped; data kept (volumes and network). "
              f"`gitopslab up --name {ctx.topo.lab}` starts it again.", markup=False)
    return 0
