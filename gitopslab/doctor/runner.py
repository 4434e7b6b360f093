"""The concurrent runner: every check in its own daemon thread, each with its own timeout, the whole
run bounded, and the skip cascade.

Two kinds of prerequisite:
  * `needs` (a gate): the check waits for these and is skipped, without running, when one of them did
    not end ok/warn. Used where the prerequisite is cheap (engine answers, container exists).
  * `soft`: the check runs at the same time as these (so slow probes overlap and the run stays
    bounded), and its failure is turned into a skip when one of them failed: one root cause, one red
    line.
A skip names the root cause (the first failed check up the chain), not the check in between.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from gitopslab.doctor.result import CheckResult

GRACE = 0.4  # seconds a check may overrun its own timeout before the runner stops waiting for it

CheckFn = Callable[[Any], "CheckResult | list[CheckResult]"]


@dataclass(frozen=True)
class Check:
    group: str
    name: str
    fn: CheckFn
    needs: tuple[str, ...] = ()
    soft: tuple[str, ...] = ()
    soft_map: dict[str, str] = field(default_factory=dict)  # result name -> soft prerequisite of that line
    timeout_extra: float = 0.0        # seconds on top of the runner's per-check timeout (a container start)

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"


_RANK = {"fail": 3, "warn": 2, "ok": 1, "skip": 0}


def overall(results: Iterable[CheckResult]) -> str:
    """The status of a check that produced several lines: the worst one; all skipped -> skip."""
    statuses = [r.status for r in results]
    return max(statuses, key=lambda s: _RANK[s]) if statuses else "skip"


class _Run:
    def __init__(self, checks: list[Check], probe: Any, check_timeout: float) -> None:
        self.checks = {c.id: c for c in checks}
        self.order = [c.id for c in checks]
        self.probe = probe
        self.check_timeout = check_timeout
        self.results: dict[str, list[CheckResult]] = {}
        self.root: dict[str, str] = {}          # check id -> id of the failed check that caused it
        self.started: dict[str, float] = {}
        self.done_q: queue.Queue[tuple[str, list[CheckResult]]] = queue.Queue()

    def status(self, cid: str) -> str:
        return overall(self.results[cid])

    def _blocking(self, deps: tuple[str, ...]) -> str | None:
        for dep in deps:
            if dep in self.results and self.status(dep) in ("fail", "skip"):
                return dep
        return None

    def _cause(self, dep: str) -> str:
        # Short on purpose: the root's own red line already says what and how to fix it.
        return f"skipped: {self.root.get(dep, dep)} failed"

    def _skip(self, check: Check, dep: str) -> list[CheckResult]:
        self.root[check.id] = self.root.get(dep, dep)
        return [CheckResult(check.group, check.name, "skip", _shorten(self._cause(dep)))]

    def _start(self, check: Check) -> None:
        self.started[check.id] = time.monotonic()

        def target() -> None:
            t0 = time.monotonic()
            try:
                out = check.fn(self.probe)
                results = out if isinstance(out, list) else [out]
                if not results or not all(isinstance(r, CheckResult) for r in results):
                    raise TypeError(f"returned {out!r}, not check results")
            except Exception as exc:  # a bug or an unforeseen answer must not hide the other checks
                results = [CheckResult(check.group, check.name, "fail",
                                       f"the check itself failed: {type(exc).__name__}: {exc}",
                                       "run with --verbose and report it")]
            took = round(time.monotonic() - t0, 3)
            self.done_q.put((check.id, [replace(r, seconds=took) for r in results]))

        threading.Thread(target=target, name=f"doctor:{check.id}", daemon=True).start()

    def _limit(self, cid: str) -> float:
        return self.check_timeout + self.checks[cid].timeout_extra + GRACE

    def run(self) -> dict[str, list[CheckResult]]:
        pending = list(self.order)
        while pending or self.started:
            for cid in list(pending):
                check = self.checks[cid]
                gates = [d for d in check.needs if d in self.checks]
                if any(d not in self.results for d in gates):
                    continue
                pending.remove(cid)
                blocker = self._blocking(tuple(gates))
                if blocker:
                    self.results[cid] = self._skip(check, blocker)
                else:
                    self._start(check)
            if not self.started:
                if pending:  # a cycle or a gate that can never finish: report it, do not hang
                    for cid in pending:
                        c = self.checks[cid]
                        self.results[cid] = [CheckResult(c.group, c.name, "fail", "prerequisites never finished")]
                    pending.clear()
                continue
            now = time.monotonic()
            wait = min(self.started[c] + self._limit(c) for c in self.started) - now
            try:
                cid, results = self.done_q.get(timeout=max(wait, 0.0))
            except queue.Empty:
                self._expire(time.monotonic())
                continue
            if cid in self.started:  # a late answer from a check already timed out is dropped
                del self.started[cid]
                self.results[cid] = results
        self._apply_soft()
        return {cid: self.results[cid] for cid in self.order}

    def _expire(self, now: float) -> None:
        for cid in list(self.started):
            limit = self._limit(cid)
            if now - self.started[cid] >= limit:
                took = round(now - self.started.pop(cid), 3)
                c = self.checks[cid]
                self.results[cid] = [CheckResult(
                    c.group, c.name, "fail",
                    # "hung", as the check's own timeout words it: which of the two ends a hung
                    # check first depends on the machine's load, the verdict must not.
                    f"no answer within {limit - GRACE:.0f} s (hung): the check was abandoned",
                    "the component hangs (accepts but does not answer): see `gitopslab logs`", took)]

    def _apply_soft(self) -> None:
        # In declaration order, so a soft prerequisite is settled (possibly skipped itself) before use.
        for cid in self.order:
            check = self.checks[cid]
            lines = []
            for r in self.results[cid]:
                deps = tuple(d for d in (*check.soft, check.soft_map.get(r.name, "")) if d in self.checks)
                blocker = self._blocking(deps) if r.status in ("fail", "warn") else None
                if blocker:
                    self.root.setdefault(cid, self.root.get(blocker, blocker))
                    r = replace(r, status="skip", detail=_shorten(self._cause(blocker)), fix=None)
                lines.append(r)
            causes = {r.detail for r in lines}
            if len(lines) > 1 and all(r.status == "skip" for r in lines) and len(causes) == 1:
                lines = [replace(lines[0], name=check.name)]  # one skip line, not one per URL
            self.results[cid] = lines


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_checks_by_id(checks: list[Check], probe: Any, check_timeout: float = 3.0) -> dict[str, list[CheckResult]]:
    """Run `checks` concurrently: check id -> its result lines, in declaration order."""
    return _Run(checks, probe, check_timeout).run()


def run_checks(checks: list[Check], probe: Any, check_timeout: float = 3.0) -> list[CheckResult]:
    """Run `checks` concurrently; results in declaration order (a check may give several lines)."""
    by_id = run_checks_by_id(checks, probe, check_timeout)
    return [r for cid in by_id for r in by_id[cid]]


def with_prerequisites(checks: list[Check], wanted: set[str]) -> list[Check]:
    """The checks of the wanted groups plus everything they need (transitively), in declaration order."""
    by_id = {c.id: c for c in checks}
    keep: set[str] = set()
    stack = [c.id for c in checks if c.group in wanted]
    while stack:
        cid = stack.pop()
        if cid in keep or cid not in by_id:
            continue
        keep.add(cid)
        stack.extend(by_id[cid].needs + by_id[cid].soft)
    return [c for c in checks if c.id in keep]
