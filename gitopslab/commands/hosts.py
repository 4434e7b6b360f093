"""`gitopslab hosts`: show, add (--apply) or remove (--remove) the lab's hosts-file block."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Show the hosts-file lines that make the lab's names resolve to 127.0.0.1.

Browsers resolve *.localhost to loopback by themselves, but not every resolver does (Debian without
systemd-resolved, some Windows and Docker setups). Where preflight finds a name that does not resolve,
add one marked block: `sudo /full/path/to/gitopslab hosts --apply` (sudo resets PATH, so the full
path; preflight prints it with the path of the gitopslab that runs). It is idempotent, and `--remove` (or `gitopslab destroy`) takes it out again. Nothing outside
the block is touched.

The block covers the profiles the lab was brought up with (read from its stored settings, also under
sudo) and every `--profile` given here."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # --profile: a lab run with `up --profile observability` has more names (Grafana, Prometheus, ...).
    add_lab_options(parser, profile=True)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--apply", action="store_true", help="add or refresh the lab's block")
    action.add_argument("--remove", action="store_true", help="remove the lab's block")


def run(args: argparse.Namespace) -> int:
    from gitopslab.commands._options import context_from_args
    from gitopslab.drivers import hosts_file
    from gitopslab.drivers.hosts_file import elevated_hint, hosts_apply_args
    from gitopslab.render.names import render_block
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args)
    extra = [p for p in _stored_profiles(ctx.topo.lab) if p not in ctx.cfg.profiles]
    if extra:  # the lab runs with more profiles than the flags name: their names belong in the block
        args.profile = list(getattr(args, "profile", None) or []) + extra
        ctx = context_from_args(args)
    path = hosts_file.hosts_file()
    if args.apply:
        changed = hosts_file.apply(ctx.topo)
        console().print(f"{path}: {'block written' if changed else 'block already up to date'}", markup=False)
        return 0
    if args.remove:
        found = hosts_file.remove(ctx.topo.lab)
        console().print(f"{path}: {'block removed' if found else 'no gitopslab block for this lab'}", markup=False)
        return 0
    missing = hosts_file.unresolved(ctx.topo.hostnames)
    if ctx.json:
        print_json("hosts", {"file": str(path), "block": render_block(ctx.topo), "unresolved": missing})
        return 0
    out = console()
    out.print(render_block(ctx.topo), end="", markup=False)
    if missing:
        out.print(f"\n{len(missing)} name(s) do not resolve to loopback here: {', '.join(missing)}", markup=False)
        out.print(f"add the block with: {elevated_hint(hosts_apply_args(ctx.topo))}", markup=False)
    else:
        out.print("\nevery lab name resolves to loopback on this host")
    return 0


def _stored_profiles(lab: str) -> list[str]:
    """The profiles `up` stored for this lab. Under sudo, HOME may be root's: read the state of the
    user who ran sudo (unless GITOPSLAB_STATE_DIR names it)."""
    import os
    from pathlib import Path

    from gitopslab.errors import LabError
    from gitopslab.state import LabState, state_root

    roots = [state_root()]
    user = os.environ.get("SUDO_USER")
    if user and not os.environ.get("GITOPSLAB_STATE_DIR") and hasattr(os, "getuid"):
        import pwd

        try:
            home = Path(pwd.getpwnam(user).pw_dir)
        except KeyError:
            home = None
        if home is not None:
            env = {k: v for k, v in os.environ.items() if k != "XDG_STATE_HOME"}
            roots.insert(0, Path(str(state_root(env)).replace(str(Path.home()), str(home), 1)))
    for root in roots:
        try:
            stored = LabState(lab, root).stored_settings() or {}
        except LabError:
            continue
        profiles = stored.get("lab", {}).get("profiles")
        if isinstance(profiles, list):
            return [str(p) for p in profiles]
    return []
