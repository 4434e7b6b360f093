"""`gitopslab urls`: where every service is."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser, profile=True)


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from gitopslab.commands._options import context_from_args
    from gitopslab.render.urls import rows
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args, lab_profiles=True)
    data = rows(ctx.topo)
    if ctx.json:
        print_json("urls", data)
        return 0
    table = Table("service", "URL", "runs in", title=f"lab {ctx.topo.lab}")
    for row in data:
        table.add_row(escape(row["service"]), escape(row["url"]), escape(row["runs_in"]))
    console().print(table)
    console().print("credentials: gitopslab creds", markup=False)
    return 0
