"""The concrete steps of `up`, gathered from the stack modules (wired as each layer lands)."""

from __future__ import annotations

from gitopslab.context import Context
from gitopslab.errors import NotBuiltError
from gitopslab.orchestrator import Stage


def up_stages(ctx: Context) -> list[Stage]:
    raise NotBuiltError("`gitopslab up` has no stack steps wired yet",
                        hint="the compose and cluster layers are being built; nothing was changed")
