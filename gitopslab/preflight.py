"""Preflight, shared by `up` (before it changes anything) and `doctor` (its Host group).

    run_preflight(ctx)    -> every Host check's result for the active profile (nothing is changed)
    ensure_preflight(ctx) -> the results when nothing failed (warnings included), else PreflightError
                             listing EVERY problem at once, each with its install or fix hint
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitopslab.checks import CheckResult
from gitopslab.errors import PreflightError

if TYPE_CHECKING:
    from gitopslab.context import Context


def run_preflight(ctx: Context, timeout: float | None = None) -> list[CheckResult]:
    from gitopslab.doctor import host
    from gitopslab.doctor.probe import Probe
    from gitopslab.doctor.runner import run_checks

    seconds = timeout or ctx.cfg.timeouts.doctor_check
    return run_checks(host.checks(), Probe(ctx.cfg, ctx.topo, ctx.state, seconds), seconds)


def problems_text(results: list[CheckResult]) -> str:
    lines = []
    for r in results:
        if r.status == "fail":
            lines.append(f"  - {r.name}: {r.detail}" + (f"\n      fix: {r.fix}" if r.fix else ""))
    return "\n".join(lines)


def ensure_preflight(ctx: Context, timeout: float | None = None) -> list[CheckResult]:
    results = run_preflight(ctx, timeout)
    failed = [r for r in results if r.status == "fail"]
    if failed:
        noun = "prerequisite is" if len(failed) == 1 else "prerequisites are"
        raise PreflightError(
            f"preflight: {len(failed)} {noun} not met; nothing was changed:\n{problems_text(results)}",
            hint="fix the lines above, then run the same command again (`gitopslab doctor --only host` re-checks)",
        )
    return results
