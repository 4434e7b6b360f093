"""The typed result of one health check, shared by preflight (before `up`) and `doctor` (after)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True)
class CheckResult:
    group: str          # Host, Compose, Cluster, GitOps, Apps, Links, Pipeline
    name: str           # short id, e.g. "engine", "port:3000", "resolve:gitea.localhost"
    status: Status
    detail: str         # one line: what was seen
    fix: str | None = None   # what to do, a command where there is one
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ok(group: str, name: str, detail: str) -> CheckResult:
    return CheckResult(group, name, "ok", detail)


def warn(group: str, name: str, detail: str, fix: str | None = None) -> CheckResult:
    return CheckResult(group, name, "warn", detail, fix)


def fail(group: str, name: str, detail: str, fix: str | None = None) -> CheckResult:
    return CheckResult(group, name, "fail", detail, fix)


def skip(group: str, name: str, detail: str) -> CheckResult:
    return CheckResult(group, name, "skip", detail)
