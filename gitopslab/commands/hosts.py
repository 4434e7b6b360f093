"""`gitopslab hosts`: show, add (--apply) or remove (--remove) the lab's hosts-file block."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Show the hosts-file lines that make the lab's names resolve to 127.0.0.1.

Browsers resolve *.localhost to loopback by themselves, but not every resolver does (Debian without
systemd-resolved, some Windows and Docker setups). Where preflight finds a name that does not resolve,
add one marked block: `sudo gitopslab hosts --apply`. It is idempotent, and `--remove` (or
`gitopslab destroy`) takes it out again. Nothing outside the block is touched."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--apply", action="store_true", help="add or refresh the lab's block")
    action.add_argument("--remove", action="store_true", help="remove the lab's block")


def run(args: argparse.Namespace) -> int:
    from gitopslab import hosts
    from gitopslab.context import context_from_args
    from gitopslab.render.hosts import render_block
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args)
    path = hosts.hosts_file()
    if args.apply:
        changed = hosts.apply(ctx.topo)
        console().print(f"{path}: {'block written' if changed else 'block already up to date'}")
        return 0
    if args.remove:
        found = hosts.remove(ctx.topo.lab)
        console().print(f"{path}: {'block removed' if found else 'no gitopslab block for this lab'}")
        return 0
    missing = hosts.unresolved(ctx.topo.hostnames)
    if ctx.json:
        print_json("hosts", {"file": str(path), "block": render_block(ctx.topo), "unresolved": missing})
        return 0
    out = console()
    out.print(render_block(ctx.topo), end="", markup=False)
    if missing:
        out.print(f"\n{len(missing)} name(s) do not resolve to loopback here: {', '.join(missing)}")
        out.print("add the block with: sudo $(command -v gitopslab) hosts --apply", markup=False)
    else:
        out.print("\nevery lab name resolves to loopback on this host")
    return 0
