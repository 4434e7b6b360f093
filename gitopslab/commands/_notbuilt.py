"""For verbs whose capability is not built yet: they say so plainly and exit 2, never pretend."""

from __future__ import annotations

from gitopslab.errors import NotBuiltError


def refuse(verb: str, issue: str) -> int:
    raise NotBuiltError(
        f"`gitopslab {verb}` is not built yet ({issue})",
        hint="see the project's open issues; nothing was changed",
    )
