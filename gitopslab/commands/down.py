"""`gitopslab down`: stop the compose layer and keep its data (volumes) and its network."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Stop the lab and keep its data.

Removes the compose layer's containers; keeps its volumes (Gitea, Woodpecker and registry data)
and the lab network, so `gitopslab up` brings everything back as it was."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)


def run(args: argparse.Namespace) -> int:
    from gitopslab.context import context_from_args
    from gitopslab.stack import compose_layer
    from gitopslab.ui import console

    ctx = context_from_args(args)
    with ctx.state.lock("down"):
        compose_layer.down(ctx)
    console().print(f"lab {ctx.topo.lab}: compose layer stopped; data kept (volumes and network). "
                    f"`gitopslab up --name {ctx.topo.lab}` starts it again.")
    return 0
