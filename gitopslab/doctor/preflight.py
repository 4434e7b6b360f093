"""Preflight, shared by `up` (before it changes anything) and `doctor` (its Host group).

    run_preflight(ctx)    -> every Host check's result for the active profile (nothing is changed)
    ensure_preflight(ctx) -> the results when nothing failed (warnings included), else PreflightError
                             listing EVERY problem at once, each with its install or fix hint; `up`
                             passes offer_tools, asked only when missing k3d/kubectl are all that fails
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gitopslab.doctor.result import CheckResult
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


# Tools `up` can download itself; offered only when nothing else stands in the way.
INSTALLABLE = frozenset({"k3d", "kubectl"})


def ensure_preflight(ctx: Context, timeout: float | None = None,
                     offer_tools: Callable[[list[str]], None] | None = None) -> list[CheckResult]:
    """With `offer_tools`, missing k3d/kubectl are offered for download when they are the ONLY
    problems: a stopped engine (or any other failure) is reported first, before anything is asked.
    With `--yes` (nothing is asked) they are installed whatever else failed, and the rest reported."""
    results = run_preflight(ctx, timeout)
    failed = [r for r in results if r.status == "fail"]
    installable = sorted({r.name for r in failed} & INSTALLABLE)
    if offer_tools and installable and ({r.name for r in failed} <= INSTALLABLE or ctx.assume_yes):
        offer_tools(installable)
        results = run_preflight(ctx, timeout)
        failed = [r for r in results if r.status == "fail"]
    if failed:
        noun = "prerequisite is" if len(failed) == 1 else "prerequisites are"
        raise PreflightError(
            f"preflight: {len(failed)} {noun} not met; nothing was changed:\n{problems_text(results)}",
            hint="fix the lines above, then run the same command again (`gitopslab doctor --only host` re-checks)",
        )
    return results
