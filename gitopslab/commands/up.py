"""`gitopslab up`: bring the whole lab up, or resume it. Re-running on a healthy lab changes nothing."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from gitopslab.commands._options import add_lab_options
from gitopslab.errors import LabError

if TYPE_CHECKING:
    from gitopslab.context import Context

log = logging.getLogger("gitopslab.commands.up")

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
    from gitopslab.commands._options import context_from_args
    from gitopslab.logsetup import to_file
    from gitopslab.ui import error_console

    ctx = context_from_args(args)
    with to_file(ctx.state, "up") as log_path:
        error_console().print(f"log: {log_path}", markup=False, style="dim")
        try:
            return up_and_report(ctx, ask_tools=not args.yes, run_doctor=not args.no_doctor)
        except LabError as exc:  # the log is what a support bundle carries: the end must be in it
            log.info("up failed (exit %s):\n%s", exc.exit_code, exc)
            raise
        except KeyboardInterrupt:
            log.info("up interrupted (Ctrl-C); finished steps are journaled in %s, `gitopslab up` resumes",
                     ctx.state.journal_file)
            raise


def up_and_report(ctx: Context, ask_tools: bool = True, run_doctor: bool = True) -> int:
    """Run the conductor's `up`, drawing its progress; then the URLs, where the time went, and doctor."""
    from rich.markup import escape

    from gitopslab.commands import progress
    from gitopslab.conductor.up import up
    from gitopslab.render.urls import rows
    from gitopslab.ui import console

    out, printer = console(), progress.StepPrinter()
    ctx.progress = progress.pull_printer()
    ctx.report = progress.StackReporter(out)
    run_report = up(ctx, offer_tools=lambda missing: offer_tools(missing, ask_tools),
                    on_event=printer, on_plan=printer.plan)
    out.print(f"\n[bold green]lab {escape(ctx.topo.lab)} is up[/]")
    out.print(progress.time_summary(run_report), markup=False, style="dim")
    for row in rows(ctx.topo):
        out.print(f"  {row['service']:<30} {row['url']}", markup=False)
    out.print(f"credentials: gitopslab creds   (stored in {ctx.state.secrets_file}, mode 0600)", markup=False)
    if not run_doctor:
        return 0
    from gitopslab.commands.doctor_report import print_table
    from gitopslab.doctor import run_doctor as doctor_run

    report = doctor_run(ctx)
    print_table(report)
    return int(report.exit_code)


def offer_tools(missing: list[str], ask: bool) -> None:
    """`up` installs missing k3d/kubectl after asking (or with --yes); without a terminal it never asks.
    Preflight calls it only when these tools are all that is missing (the engine answers, ...)."""
    import sys

    from rich.markup import escape

    from gitopslab.drivers import tools

    if not missing:
        return
    if ask:
        if not sys.stdin.isatty():
            return  # preflight lists them with their install hint
        reply = input(f"{', '.join(missing)} not found; download the pinned release(s) now? [y/N] ")
        if reply.strip().lower() not in {"y", "yes"}:
            return
    for name in missing:
        try:
            tools.install(name)
        except LabError as exc:  # preflight reports the tool as missing with this reason
            from gitopslab.ui import error_console

            error_console().print(f"[yellow]warning:[/] {escape(exc.message)}")


