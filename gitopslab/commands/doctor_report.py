"""Doctor's output: a grouped table with a one-line verdict, or the JSON document.

JSON (`gitopslab doctor --json`, envelope from gitopslab.ui.print_json; documented in
docs/HEALTH_CHECKS.md, keys pinned by tests/doctor/test_doctor_run.py):
    {"schema": "gitopslab/doctor", "version": 1, "data": {
        "lab": str, "verdict": "ok"|"warn"|"fail", "exit_code": 0|1, "seconds": float,
        "groups": [str, ...],
        "summary": {"ok": int, "warn": int, "fail": int, "skip": int},
        "checks": [{"group", "name", "status", "detail", "fix", "seconds"}, ...]}}
"""

from __future__ import annotations

from typing import Any

from gitopslab.doctor import Report

ICONS = {"ok": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "bold red"), "skip": ("-", "dim")}


def as_data(report: Report) -> dict[str, Any]:
    return {
        "lab": report.lab,
        "verdict": report.verdict,
        "exit_code": report.exit_code,
        "seconds": report.seconds,
        "groups": list(report.groups),
        "summary": {s: report.count(s) for s in ("ok", "warn", "fail", "skip")},
        "checks": [r.as_dict() for r in report.results],
    }


def verdict_line(report: Report) -> str:
    fails, warns, skips = report.count("fail"), report.count("warn"), report.count("skip")
    took = f"{report.seconds:.1f} s"
    if fails:
        skipped = f"; {skips} skipped because of them" if skips else ""
        plural = "problem" if fails == 1 else "problems"
        return f"✗ {fails} {plural} to fix (red lines, each with its fix){skipped}. {took}"
    if warns:
        return f"! No failures, {warns} warning(s) worth a look. {took}"
    return f"✓ The lab is whole: {report.count('ok')} checks passed. {took}"


def print_table(report: Report) -> None:
    """One line per check, names aligned; lines are soft-wrapped (never broken by us), so a fix
    copied from a narrow terminal is still one command."""
    from rich.text import Text

    from gitopslab.ui import console

    out = console()
    width = max((len(r.name) for r in report.results), default=0)
    for group in report.groups:
        rows = [r for r in report.results if r.group == group]
        if not rows:
            continue
        out.print(Text(group, style="bold"))
        for r in rows:
            icon, style = ICONS[r.status]
            line = Text.assemble((icon, style), f"  {r.name:<{width}}  ",
                                 (r.detail, "dim" if r.status == "skip" else ""))
            if r.status != "skip":
                line.append(f"  ({r.seconds:.1f} s)", style="dim")
            out.print(line)
            if r.fix and r.status in ("fail", "warn"):
                out.print(Text(f"{' ' * (width + 5)}fix: {r.fix}", style="cyan"))
    style = {"fail": "bold red", "warn": "yellow", "ok": "bold green"}[report.verdict]
    out.print(Text(verdict_line(report), style=style))
