"""What the stack reports while it works, as plain data (`ctx.report(event)`). The face decides how to
draw each one (gitopslab/commands/progress.py); a stack module never prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitopslab.clients.argocd import AppStatus


@dataclass(frozen=True)
class Notice:
    """A line worth telling the person (a fallback taken, something left as it was)."""

    text: str


@dataclass(frozen=True)
class AppsSnapshot:
    """Argo CD's applications during the final wait; `since` is when each entered its state."""

    apps: list[AppStatus]
    since: dict[str, float] = field(default_factory=dict)
    now: float = 0.0
    final: bool = False   # the wait ended (ready or timed out): the face stops its live view


@dataclass(frozen=True)
class Diagnostics:
    """What a person needs to see first when a wait timed out (apps not ready, pods and their events)."""

    text: str
