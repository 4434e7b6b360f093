"""What a step of the lab is, for the stack modules that define them and the conductor that runs them.

A step is any object with:
    name: str                       stable id, used in the journal ("compose.up", "cluster.create")
    title: str                      one line shown to the person
    done(ctx) -> bool               True when the component is there and healthy (no changes made)
    apply(ctx) -> None              make it so; idempotent; raise a LabError with a hint on failure
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gitopslab.context import Context


class Step(Protocol):
    name: str
    title: str

    def done(self, ctx: Context) -> bool: ...

    def apply(self, ctx: Context) -> None: ...


@dataclass
class FuncStep:
    """A step from two functions, for components whose check and apply are plain functions."""

    name: str
    title: str
    check: Callable[[Context], bool]
    act: Callable[[Context], object]  # what it returns (counts, ids) is for callers that use it; a step ignores it

    def done(self, ctx: Context) -> bool:
        return self.check(ctx)

    def apply(self, ctx: Context) -> None:
        self.act(ctx)


# A stage is either one step, or several lanes of steps that run side by side (each lane in order).
Stage = Step | tuple[Sequence[Step], ...]
