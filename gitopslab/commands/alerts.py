"""`gitopslab alerts`: what Alertmanager delivered to the lab's alert receiver (observability profile)."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """List the alerts Alertmanager delivered to the lab's alert receiver, oldest first: one
row per alert per notification (firing, then resolved when it clears). Needs the observability profile.

examples:
  gitopslab alerts                 everything the receiver recorded (through the lab's cluster)
  gitopslab alerts --active        only alerts still firing
  gitopslab alerts --url http://127.0.0.1:18080 --json"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)
    parser.add_argument("--active", action="store_true", help="only alerts whose latest notification is firing")
    parser.add_argument("--limit", type=int, default=0, metavar="N", help="only the newest N rows")
    parser.add_argument("--url", help="the receiver's base URL (default: through the cluster's API server)")


def run(args: argparse.Namespace) -> int:
    from gitopslab.stack import alert_feed
    from gitopslab.ui import console, print_json

    if args.url:
        notifications = alert_feed.fetch_url(args.url)
    else:
        from gitopslab.commands._options import context_from_args

        ctx = context_from_args(args)
        notifications = alert_feed.fetch_kubectl(ctx.state.kubeconfig, timeout=ctx.cfg.timeouts.http * 2)
    rows = alert_feed.rows(notifications)
    if args.active:
        rows = alert_feed.active(rows)
    if args.limit > 0:
        rows = rows[-args.limit:]
    if args.json:
        print_json("alerts", {"notifications": len(notifications), "alerts": [r.as_dict() for r in rows]})
        return 0
    out = console()
    if not rows:
        out.print("no alerts recorded" + (" are firing" if args.active else " yet")
                  + " (the receiver answers; Alertmanager has sent nothing that matches)")
        return 0
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"alerts ({len(rows)} from {len(notifications)} notifications)")
    for col in ("received", "status", "alert", "severity", "namespace", "pod / instance", "summary"):
        table.add_column(col, overflow="fold")
    for r in rows:
        colour = "red" if r.status == "firing" else "green"
        # alert labels and annotations come from the cluster: data, never markup
        table.add_row(escape(r.received_at), f"[{colour}]{escape(r.status)}[/]",
                      *(escape(v) for v in (r.alertname, r.severity, r.namespace, r.subject, r.summary)))
    out.print(table)
    return 0
