"""Runs the lab's steps: each is logged before it runs, skipped when already done, journaled when
finished; independent layers run side by side. An interrupted `up` resumes from the journal, and a
step that is journaled but no longer healthy (a killed container) is applied again. What a step
is: gitopslab/stack/step.py.

While steps run, a ticker reports every `heartbeat` seconds (15 by default) what each running step
is doing: the wait it is in (what it awaits, what it last saw, for how long) or how long it has run.
Ctrl-C stops the run within a second or two: the lanes' waits and programs see `wait.interrupt()`,
the runner gives them a moment, then the KeyboardInterrupt goes on up; only finished steps are in
the journal, so the next `up` resumes. When several lanes fail, every failed step's cause is told
(StepsFailed), not only the first one's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitopslab import wait
from gitopslab.errors import LabError
from gitopslab.stack.step import Stage, Step

if TYPE_CHECKING:
    from gitopslab.context import Context

log = logging.getLogger("gitopslab.conductor.runner")

HEARTBEAT_S = 15.0  # at most this long without a word while a step runs (terminal or pipe)
STOP_GRACE_S = 1.0  # after Ctrl-C, how long the lanes get to stop before the run ends without them


@dataclass
class StepOutcome:
    name: str
    title: str
    action: str  # "skipped" (already done) | "applied" | "failed"
    seconds: float
    error: str | None = None


@dataclass
class RunReport:
    outcomes: list[StepOutcome] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(o.action == "applied" for o in self.outcomes)


class StepsFailed(LabError):
    """Several steps failed side by side (one per lane): each one's cause and fix, in lane order."""

    def __init__(self, failures: list[tuple[Step, LabError]]) -> None:
        self.failures = failures
        lines = [f"{len(failures)} steps failed:"]
        for step, exc in failures:
            lines.append(f"  - {step.title} ({step.name}): " + exc.message.replace("\n", "\n    "))
            if exc.hint:
                lines.append(f"      fix: {exc.hint}")
        super().__init__("\n".join(lines), hint="fix each of them, then run the same command again: "
                                                  "it resumes after the steps that finished")
        self.exit_code = max(exc.exit_code for _, exc in failures)


Reporter = Callable[[str, Step, dict[str, Any]], None]


def _quiet(event: str, step: Step, info: dict[str, Any]) -> None:
    return None


class _InFlight:
    """Which step each thread runs now, for the heartbeat."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.steps: dict[int, tuple[Step, float]] = {}

    def enter(self, step: Step) -> None:
        with self.lock:
            self.steps[threading.get_ident()] = (step, time.monotonic())

    def leave(self) -> None:
        with self.lock:
            self.steps.pop(threading.get_ident(), None)

    def now(self) -> list[tuple[int, Step, float]]:
        with self.lock:
            return [(tid, step, started) for tid, (step, started) in self.steps.items()]


def heartbeat_text(seconds: float, view: wait.WaitView | None) -> str:
    """What a running step is doing, in one line."""
    if view is None:
        return f"still running after {seconds:.0f} s"
    waited = time.monotonic() - view.started
    return (f"waiting for {view.component}: {view.awaited} ({waited:.0f} s of {view.timeout:.0f} s); "
            f"last seen: {view.last}")


def _tick(flight: _InFlight, on_event: Reporter, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        waits = wait.active()
        for tid, step, started in flight.now():
            seconds = time.monotonic() - started
            text = heartbeat_text(seconds, waits.get(tid))
            log.info("%s: %s", step.name, text)
            on_event("waiting", step, {"seconds": seconds, "text": text})


def run_step(ctx: Context, step: Step, report: RunReport, on_event: Reporter = _quiet,
             flight: _InFlight | None = None) -> None:
    on_event("start", step, {})
    log.info("step %s: %s", step.name, step.title)
    started = time.monotonic()
    if flight:
        flight.enter(step)
    try:
        if step.done(ctx):
            action = "skipped"
        else:
            step.apply(ctx)
            action = "applied"
    except LabError as exc:
        seconds = time.monotonic() - started
        report.outcomes.append(StepOutcome(step.name, step.title, "failed", seconds, exc.message))
        log.info("step %s failed after %.1f s: %s", step.name, seconds, exc)
        on_event("failed", step, {"seconds": seconds, "error": exc})
        raise
    except KeyboardInterrupt:
        seconds = time.monotonic() - started
        log.info("step %s interrupted after %.1f s (not journaled: the next run does it again)", step.name, seconds)
        on_event("interrupted", step, {"seconds": seconds})
        raise
    finally:
        if flight:
            flight.leave()
    seconds = time.monotonic() - started
    ctx.state.mark_done(step.name)
    report.outcomes.append(StepOutcome(step.name, step.title, action, seconds))
    on_event(action, step, {"seconds": seconds})


def run(ctx: Context, stages: Sequence[Stage], on_event: Reporter = _quiet,
        heartbeat: float = HEARTBEAT_S) -> RunReport:
    """Run stages in order; lanes of a parallel stage run concurrently. A failure stops the run after
    the lanes in flight finish (nothing is torn down: the next `up` resumes); Ctrl-C stops it at once."""
    wait.reset()
    report, flight, stop = RunReport(), _InFlight(), threading.Event()
    ticker = threading.Thread(target=_tick, args=(flight, on_event, heartbeat, stop), name="heartbeat", daemon=True)
    ticker.start()
    try:
        for stage in stages:
            if isinstance(stage, tuple):
                _run_lanes(ctx, stage, report, on_event, flight)
            else:
                run_step(ctx, stage, report, on_event, flight)
    except KeyboardInterrupt:
        wait.interrupt()  # a step in the main thread may have started helpers of its own
        raise
    finally:
        stop.set()
    return report


def _run_lanes(ctx: Context, lanes: tuple[Sequence[Step], ...], report: RunReport, on_event: Reporter,
               flight: _InFlight) -> None:
    failures: list[tuple[Step, LabError]] = []
    crashes: list[BaseException] = []

    def lane(steps: Sequence[Step]) -> None:
        for step in steps:
            try:
                run_step(ctx, step, report, on_event, flight)
            except LabError as exc:
                failures.append((step, exc))
                return
            except KeyboardInterrupt:
                return
            except BaseException as exc:  # a bug: raised again in the main thread, as it would be there
                crashes.append(exc)
                return

    # Daemon threads: after Ctrl-C a lane stuck in a call that cannot be interrupted (an HTTP read)
    # must not keep the process alive; its step is not journaled, so the next `up` does it again.
    threads = [threading.Thread(target=lane, args=(steps,), name=f"lane-{i}", daemon=True)
               for i, steps in enumerate(lanes)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        wait.interrupt()
        deadline = time.monotonic() + STOP_GRACE_S
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        raise
    if crashes:
        raise crashes[0]
    if len(failures) == 1:
        raise failures[0][1]
    if failures:
        order = {step.name: i for i, steps in enumerate(lanes) for step in steps}
        raise StepsFailed(sorted(failures, key=lambda f: order.get(f[0].name, 0)))


def step_count(stages: list[Stage]) -> int:
    return sum(sum(len(lane) for lane in stage) if isinstance(stage, tuple) else 1 for stage in stages)
