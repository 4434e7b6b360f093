"""Runs the lab's steps: each is logged before it runs, skipped when already done, journaled when
finished; independent layers run side by side. An interrupted `up` resumes from the journal, and a
step that is journaled but no longer healthy (a killed container) is applied again. What a step
is: gitopslab/stack/step.py."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitopslab.errors import LabError
from gitopslab.stack.step import Stage, Step

if TYPE_CHECKING:
    from gitopslab.context import Context


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


Reporter = Callable[[str, Step, dict[str, Any]], None]


def _quiet(event: str, step: Step, info: dict[str, Any]) -> None:
    return None


def run_step(ctx: Context, step: Step, report: RunReport, on_event: Reporter = _quiet) -> None:
    on_event("start", step, {})
    started = time.monotonic()
    try:
        if step.done(ctx):
            action = "skipped"
        else:
            step.apply(ctx)
            action = "applied"
    except LabError as exc:
        seconds = time.monotonic() - started
        report.outcomes.append(StepOutcome(step.name, step.title, "failed", seconds, exc.message))
        on_event("failed", step, {"seconds": seconds, "error": exc})
        raise
    seconds = time.monotonic() - started
    ctx.state.mark_done(step.name)
    report.outcomes.append(StepOutcome(step.name, step.title, action, seconds))
    on_event(action, step, {"seconds": seconds})


def run(ctx: Context, stages: Sequence[Stage], on_event: Reporter = _quiet) -> RunReport:
    """Run stages in order; lanes of a parallel stage run concurrently. The first failure stops the
    run after the lanes in flight finish (nothing is torn down: the next `up` resumes)."""
    report = RunReport()
    for stage in stages:
        if isinstance(stage, tuple):
            _run_lanes(ctx, stage, report, on_event)
        else:
            run_step(ctx, stage, report, on_event)
    return report


def _run_lanes(ctx: Context, lanes: tuple[Sequence[Step], ...], report: RunReport, on_event: Reporter) -> None:
    def lane(steps: Sequence[Step]) -> None:
        for step in steps:
            run_step(ctx, step, report, on_event)

    errors: list[LabError] = []
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        for future in [pool.submit(lane, steps) for steps in lanes]:
            try:
                future.result()
            except LabError as exc:
                errors.append(exc)
    if errors:
        raise errors[0]


def step_count(stages: list[Stage]) -> int:
    return sum(sum(len(lane) for lane in stage) if isinstance(stage, tuple) else 1 for stage in stages)
