"""`gitopslab urls`: where every service is.

A URL is never cut: on a terminal too narrow for the table with every URL whole, each service gets a
block of its own lines (the terminal folds a long line, a copy still gets the whole URL); other
columns may wrap. Piped output is the table at its natural width (ui.console)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gitopslab.commands._options import add_lab_options

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser, profile=True)


def run(args: argparse.Namespace) -> int:
    from gitopslab.commands._options import context_from_args
    from gitopslab.render.urls import rows
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args, lab_profiles=True)
    data = rows(ctx.topo)
    if ctx.json:
        print_json("urls", data)
        return 0
    print_urls(console(), ctx.topo.lab, data)
    console().print("credentials: gitopslab creds", markup=False)
    return 0


_UNBOUNDED = 10_000


def print_urls(out: Console, lab: str, data: list[dict[str, str]]) -> None:
    """The table where it fits with every URL whole, else one block per service."""
    from rich.measure import Measurement

    table = _table(lab, data)
    # Measured without the terminal's bound (Measurement.get clamps to it): the narrowest this table
    # can be with every URL whole and every other word unbroken.
    if Measurement.get(out, out.options.update_width(_UNBOUNDED), table).minimum <= out.width:
        out.print(table)
        return
    out.print(f"lab {lab}", markup=False, style="italic")
    for row in data:
        out.print(row["service"], markup=False, style="bold")
        out.print(f"  URL      {row['url']}", markup=False)
        out.print(f"  runs in  {row['runs_in']}", markup=False)


def _table(lab: str, data: list[dict[str, str]]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"lab {escape(lab)}")
    # The other columns fold rather than end in "…": their words are whole too, only broken.
    table.add_column("service", overflow="fold")
    table.add_column("URL", no_wrap=True, min_width=max((len(r["url"]) for r in data), default=3))
    table.add_column("runs in", overflow="fold")
    for row in data:
        table.add_row(escape(row["service"]), escape(row["url"]), escape(row["runs_in"]))
    return table
