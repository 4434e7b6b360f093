"""`gitopslab up`: bring the whole lab up, or resume it. Re-running on a healthy lab changes nothing."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Bring the lab up: preflight, the compose layer (Gitea, Woodpecker, registry) beside the
cluster layer (k3d, Argo CD), seed Gitea, wire Woodpecker, deploy through Argo CD, wait until every
app is Synced and Healthy, run doctor, print the URLs.

Each step checks first and skips what is already done, so `up` is safe to run again: after an
interruption it resumes, after a failure it retries only what is missing. A settings change that
cannot be applied in place is refused with the command that recreates the lab."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser, profile=True)
    parser.add_argument("-y", "--yes", action="store_true",
                        help="do not ask: install missing tools (k3d, kubectl) without a prompt")
    parser.add_argument("--no-doctor", action="store_true", help="skip the final doctor run")
    parser.add_argument("--offline", action="store_true",
                        help="pull nothing: use what `gitopslab bundle load` brought; names what is missing first")


def run(args: argparse.Namespace) -> int:
    from gitopslab.conductor.up import up
    from gitopslab.context import context_from_args
    from gitopslab.logsetup import to_file
    from gitopslab.ui import error_console

    ctx = context_from_args(args)
    with to_file(ctx.state, "up") as log_path:
        error_console().print(f"log: {log_path}", markup=False, style="dim")
        return up(ctx, ask_tools=not args.yes, run_doctor=not args.no_doctor)
