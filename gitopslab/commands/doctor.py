"""`gitopslab doctor`."""

from __future__ import annotations

import argparse
from typing import Any

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Check the host and every link of the lab, concurrently, and name what is broken with its fix.
A check that stands on a failed one is skipped with that reason: one root cause, one red line.
Groups: Host, Compose, Cluster, (multicluster: Cluster-prd,) GitOps, Apps, Links, Pipeline
(docs/HEALTH_CHECKS.md).
Exit: 0 all ok (warnings allowed), 1 a check failed, 2 usage or configuration error."""

# = doctor.GROUPS and its PRD_GROUP (multicluster), kept light
GROUP_NAMES = ("Host", "Compose", "Cluster", "Cluster-prd", "GitOps", "Apps", "Links", "Pipeline")


def _group(value: str) -> str:
    for name in GROUP_NAMES:
        if value.lower() == name.lower():
            return name
    raise argparse.ArgumentTypeError(f"unknown group {value!r}; choose from {', '.join(GROUP_NAMES)}")


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not 0.2 <= number <= 120:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds between 0.2 and 120")
    return number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser, profile=True)
    parser.add_argument("--only", action="append", type=_group, metavar="GROUP",
                        help="run only this group (and what it stands on); repeat for several: "
                             + ", ".join(GROUP_NAMES))
    parser.add_argument("--timeout", type=_seconds, default=None, metavar="S",
                        help="seconds each check may take (default: timeouts.doctor_check, 3)")
    parser.add_argument("--bundle", metavar="FILE.tgz",
                        help="also write a support bundle for an instructor: the report, journal, settings, "
                             "versions, logs, cluster events; every credential removed")


def run(args: argparse.Namespace) -> int:
    from gitopslab.commands._options import context_from_args
    from gitopslab.commands.doctor_report import as_data, print_table
    from gitopslab.doctor import run_doctor
    from gitopslab.ui import print_json

    ctx = context_from_args(args, lab_profiles=True)
    report = run_doctor(ctx, only=args.only, timeout=args.timeout or ctx.cfg.timeouts.doctor_check)
    if ctx.json:
        print_json("doctor", as_data(report))
    else:
        print_table(report)
    if args.bundle:
        _write_bundle(ctx, as_data(report), args.bundle)
    return report.exit_code


def _write_bundle(ctx: Any, data: dict[str, Any], dest: str) -> None:
    import sys
    from pathlib import Path

    from gitopslab.doctor import bundle

    members = bundle.collect(ctx, data)
    bundle.write(Path(dest), members, bundle.secret_values(ctx), state_dir=ctx.state.dir)
    # stderr: with --json, stdout stays one JSON document
    print(f"support bundle: {dest} ({len(members)} files, credentials removed)", file=sys.stderr)
