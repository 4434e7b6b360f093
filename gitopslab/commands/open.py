"""`gitopslab open`: the lab's landing page in the browser."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gitopslab.commands._options import add_lab_options

if TYPE_CHECKING:
    from gitopslab.context import Context

DESCRIPTION = """Serve the lab's landing page on 127.0.0.1 and open it in the browser: every service's URL,
its user name, a button that copies its password, and a live status dot per service. The page's
address holds a random token; it answers only on its own loopback address. The browser is handed a
file only you can read, which signs it in once: the token is never in a command line another local
user could read. Ctrl-C stops it."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser, profile=True)
    parser.add_argument("--port", type=int, default=0, metavar="N", help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--no-browser", action="store_true", help="print the address, do not open a browser")


def run(args: argparse.Namespace) -> int:
    import time
    import webbrowser

    from gitopslab.commands import landing
    from gitopslab.commands._options import context_from_args
    from gitopslab.errors import LabError

    ctx = context_from_args(args, lab_profiles=True)
    if not ctx.state.secrets_file.exists():
        raise LabError(f"lab {ctx.topo.lab!r} has no credentials yet", hint="run `gitopslab up` first")
    rows = landing.entries(ctx.topo, ctx.state.secrets(), ctx.cfg.admin_user)
    try:
        server = landing.LandingServer(ctx.topo.lab, rows, lambda: landing.statuses(ctx.topo), args.port).start()
    except OSError as exc:
        raise LabError(f"cannot serve the landing page on 127.0.0.1:{args.port}: {exc.strerror}",
                       hint="choose another port with --port, or leave it out for a free one") from exc
    if args.no_browser:
        # The terminal, not an argv: paste it into a browser (it works once; run `open` again for another).
        url = server.sign_in_url(ttl=3600)
        _say(ctx, f"landing page: {url}  (works once, for an hour; Ctrl-C stops it)", {"url": url, "once": True})
        handoff = None
    else:
        # The browser's argv names a 0600 file, never the token: another user could read an argv in /proc.
        handoff = landing.hand_off(server)
        _say(ctx, f"landing page: opening it in your browser through {handoff} (Ctrl-C stops it)",
             {"handoff": str(handoff)})
        webbrowser.open(handoff.as_uri())
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.close()
    finally:
        if handoff is not None:
            landing.remove_redirect(handoff)
    return 0


def _say(ctx: Context, line: str, data: dict[str, object]) -> None:
    """The address as a line, or with --json as one document, flushed: the page keeps serving after it."""
    import sys

    from gitopslab.ui import console, print_json

    if ctx.json:
        print_json("open", {"lab": ctx.topo.lab, **data})
        sys.stdout.flush()
    else:
        console().print(line, markup=False)
