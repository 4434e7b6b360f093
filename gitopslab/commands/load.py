"""`gitopslab load`: a bounded open-loop load against hello-api's /predict (see gitopslab.clients.loadgen)."""

from __future__ import annotations

import argparse
import json

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Send a bounded, open-loop load to hello-api's /predict and report the achieved rate,
latency percentiles and errors while it runs, then a summary. It stops by itself after --duration.

examples:
  gitopslab load --rps 50 --duration 60            steady 50 requests/s for a minute
  gitopslab load --rps 400 --duration 600 --ramp   0 -> 400 requests/s over 10 minutes (seed 003)
  gitopslab load --rps 20 --duration 10 --url http://127.0.0.1:8080/predict --json"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)
    parser.add_argument("--rps", type=float, default=20.0, help="requests per second (the peak with --ramp)")
    parser.add_argument("--duration", type=float, default=30.0, metavar="S", help="seconds to run (default 30)")
    parser.add_argument("--ramp", action="store_true", help="grow the rate linearly from 0 to --rps")
    parser.add_argument("--url", help="target (default: hello-api's /predict from the lab's topology)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S", help="per-request timeout")
    parser.add_argument("--max-in-flight", type=int, default=256, metavar="N",
                        help="most requests outstanding at once; beyond it requests are dropped and counted")
    parser.add_argument("--body", help='JSON request body (default {"features": [5.1, 3.5, 1.4, 0.2]})')


def _target(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url)
    from gitopslab.commands._options import context_from_args

    return context_from_args(args).topo.service("hello_api").url + "/predict"


def run(args: argparse.Namespace) -> int:
    from gitopslab.clients.loadgen import DEFAULT_BODY, LoadPlan, run_load
    from gitopslab.errors import UsageError
    from gitopslab.ui import console, print_json

    try:
        body = json.loads(args.body) if args.body else DEFAULT_BODY
    except ValueError as exc:
        raise UsageError(f"--body is not JSON: {exc}", hint="quote it: --body '{\"features\": [1, 2, 3, 4]}'") from exc
    plan = LoadPlan(url=_target(args), rps=args.rps, duration=args.duration, ramp=args.ramp,
                    timeout=args.timeout, max_in_flight=args.max_in_flight, body=body)
    plan.validate()
    if args.json:
        report = run_load(plan)
        print_json("load", report.as_dict())
        return 0 if report.ok else 1
    out = console()
    shape = f"ramp 0 -> {plan.rps:g}/s" if plan.ramp else f"{plan.rps:g}/s"
    out.print(f"load: {shape} for {plan.duration:g}s against {plan.url}  (Ctrl-C stops early)", markup=False)
    report = _run_live(plan, out)
    _print_summary(report, out)
    return 0 if report.ok else 1


def _line(p: dict) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}ms"
    return (f"{p['elapsed_s']:>6.1f}s/{p['duration_s']:g}s  rate {p['rate_rps']:>6.1f}/s "
            f"(target {p['target_rps']:g})  sent {p['sent']}  ok {p['ok']}  errors {p['errors']}  "
            f"in flight {p['in_flight']}  p50 {ms(p['p50'])}  p99 {ms(p['p99'])}")


def _run_live(plan, out):  # type: ignore[no-untyped-def]
    from rich.live import Live

    from gitopslab.clients.loadgen import run_load

    if not out.is_terminal:  # piped or captured: one plain line per second, readable in a log
        return run_load(plan, lambda p: out.print(_line(p), highlight=False, soft_wrap=True))
    with Live("starting...", console=out, refresh_per_second=4, transient=False) as live:
        return run_load(plan, lambda p: live.update(_line(p)))


def _print_summary(report, out) -> None:  # type: ignore[no-untyped-def]
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="load summary", show_header=False, box=None)
    lat = report.latency_ms
    rows = [
        ("target", f"{report.url}  ({'ramp to ' if report.ramp else ''}{report.target_rps:g}/s for {report.duration_s:g}s)"),
        ("sent", f"{report.sent}  ({report.sent_rps:g}/s)"),
        ("answered", f"{report.responses}  ({report.achieved_rps:g}/s), {report.ok} ok"),
        ("errors", ", ".join(f"{k}: {v}" for k, v in sorted(report.errors.items())) or "none"),
        ("dropped / unfinished", f"{report.dropped} / {report.unfinished}"),
        ("latency", "  ".join(f"{k} {'-' if v is None else f'{v:.1f}ms'}" for k, v in lat.items())),
        ("elapsed", f"{report.elapsed_s:.1f}s"),
    ]
    for key, value in rows:
        table.add_row(key, escape(value))  # error kinds carry text like "[Errno 111]": not markup
    out.print(table)
    if not report.ok:
        out.print("[bold red]no request succeeded[/]: check hello-api (`gitopslab status`) and the URL")
