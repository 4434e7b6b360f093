"""How the face shows a long `up`: a line per step with its place and the time since `up` began,
image pulls with bytes and an estimate, Argo CD's apps while the last wait runs, and where the time went.
The conductor and the stack only report events and snapshots; drawing them happens here."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from gitopslab.conductor.runner import RunReport
from gitopslab.stack.events import AppsSnapshot, Diagnostics, Notice
from gitopslab.stack.step import Step


class StepPrinter:
    """One line per step with its place and the time since `up` began: `[7/19 4:12] > title`."""

    def __init__(self, total: int = 0, clock: Callable[[], float] = time.monotonic,
                 out: Console | None = None) -> None:
        from gitopslab.ui import console

        self.out, self.clock, self.total = out or console(), clock, total
        self.began, self.started = clock(), 0

    def plan(self, total: int) -> None:
        self.total = total

    def where(self) -> str:
        elapsed = int(self.clock() - self.began)
        return f"[dim][{self.started}/{self.total} {elapsed // 60}:{elapsed % 60:02d}][/]"

    def __call__(self, event: str, step: Step, info: dict[str, Any]) -> None:
        title = escape(step.title)
        if event == "start":
            self.started += 1
            self.out.print(f"{self.where()} [bold]>[/] {title}")
        elif event == "skipped":
            self.out.print(f"  [green]ok[/] {title} [dim](already done)[/]")
        elif event == "applied":
            self.out.print(f"  [green]done[/] {title} [dim]({info['seconds']:.1f} s)[/]")
        elif event == "failed":
            self.out.print(f"  [red]failed[/] {title} [dim]({info['seconds']:.1f} s)[/]")
            error = info.get("error")
            if error is not None:  # at once, while another lane may still run; the whole text ends `up`
                first = (getattr(error, "message", "") or str(error)).splitlines() or [""]
                self.out.print(f"    cause: {escape(first[0])}")
        elif event == "interrupted":
            self.out.print(f"  [yellow]interrupted[/] {title} [dim](not finished: the next `up` does it again)[/]")
        elif event == "waiting":  # the heartbeat: what the step waits for and what it last saw
            self.out.print(f"  [dim]...[/] {title}: {escape(info['text'])}")


def pull_printer(clock: Callable[[], float] = time.monotonic, every: float = 5.0,
                 out: Console | None = None) -> Callable[[Any], None]:
    """Image pulls as lines (they run in parallel lanes, so no live bar): each pull's bytes, rate and
    estimate at most every `every` seconds, and one line when it has finished."""
    from gitopslab.ui import console

    out = out or console()
    shown: dict[str, float] = {}
    lock = threading.Lock()

    def on_progress(progress: Any) -> None:
        now = clock()
        with lock:
            if not progress.finished and now - shown.get(progress.image, -every) < every:
                return
            shown[progress.image] = now
        out.print(f"    {progress.line()}", markup=False, style="dim")

    return on_progress


def time_summary(report: RunReport, top: int = 5) -> str:
    """Where the time went: the slowest steps that did work, and the total."""
    applied = sorted((o for o in report.outcomes if o.action == "applied"), key=lambda o: -o.seconds)
    if not applied:
        return "nothing to do: every step was already done"
    total = sum(o.seconds for o in report.outcomes)
    parts = ", ".join(f"{o.name} {o.seconds:.0f} s" for o in applied[:top])
    return f"where the time went (steps, lanes overlap): {parts}; {total:.0f} s of step time in all"




def apps_table(snapshot: AppsSnapshot) -> Table:
    """Argo CD's applications as the person watches them: app, sync, health, for how long, condition."""
    out = Table(title="Argo CD applications", expand=False)
    for column in ("app", "sync", "health", "for", "condition"):
        out.add_column(column)
    for app in snapshot.apps:
        sync_style = "green" if app.sync == "Synced" else "yellow"
        health_style = {"Healthy": "green", "Degraded": "red", "Missing": "red"}.get(app.health, "yellow")
        seconds = snapshot.now - snapshot.since.get(app.name, snapshot.now)
        out.add_row(escape(app.name), f"[{sync_style}]{escape(app.sync)}[/]",
                    f"[{health_style}]{escape(app.health)}[/]",
                    f"{seconds:.0f}s", escape((app.conditions[0] if app.conditions else "")[:80]))
    if not snapshot.apps:
        out.add_row("(no applications yet)", "", "", "", "")
    return out


class StackReporter:
    """Draws what the stack reports: notices as lines, Argo CD snapshots as one live table (drawn once,
    at its end, where the output is not a terminal), diagnostics as plain text."""

    def __init__(self, out: Console | None = None) -> None:
        from gitopslab.ui import console

        self.out = out or console()
        self.live: Live | None = None
        self.lock = threading.Lock()

    def __call__(self, event: object) -> None:
        with self.lock:
            if isinstance(event, AppsSnapshot):
                self._snapshot(event)
            elif isinstance(event, (Notice, Diagnostics)):
                self.out.print(event.text, markup=False)

    def _snapshot(self, snapshot: AppsSnapshot) -> None:
        if self.live is None:
            self.live = Live(apps_table(snapshot), console=self.out, refresh_per_second=4, transient=False)
            self.live.start()
        else:
            self.live.update(apps_table(snapshot))
        if snapshot.final:
            self.live.stop()
            self.live = None
