"""`gitopslab open`: the lab's landing page in the browser."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

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
    from gitopslab.ui import console

    ctx = context_from_args(args)
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
        console().print(f"landing page: {server.sign_in_url(ttl=3600)}  (works once, for an hour; Ctrl-C stops it)", markup=False)
        handoff = None
    else:
        # The browser's argv names a 0600 file, never the token: another user could read an argv in /proc.
        handoff = landing.hand_off(server)
        console().print(f"landing page: opening it in your browser through {handoff} (Ctrl-C stops it)",
                        markup=False)
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
