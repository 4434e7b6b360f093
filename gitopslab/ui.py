"""Console output: rich consoles that respect NO_COLOR, and the versioned JSON envelope.

Output contracts (tests/commands/test_output_contracts.py):
- Text never wraps mid-word: plain lines are soft-wrapped (the terminal folds them, a copied command
  stays one line); only tables wrap their cells, and only on a terminal.
- Piped output (CI logs, `| grep`, `| less`) is not wrapped at all and carries no padding: tables take
  their natural width and trailing spaces are dropped.
- `--json` prints exactly one JSON document on stdout; notes go to stderr.
- Outside text (object names, conditions, messages) never drives the terminal: both consoles show its
  control sequences as `\\xNN` text (terminal_text.clean); JSON is escaped by json itself.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import IO, Any, cast

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

from gitopslab.terminal_text import clean, is_clean

JSON_SCHEMA_VERSION = 1
PIPE_WIDTH = 4096  # "unlimited" for rich: tables are as wide as their content, never folded


class _Unpadded:
    """A text stream that drops the spaces rich pads lines with (tables fill every cell)."""

    def __init__(self, inner: IO[str]) -> None:
        self._inner = inner
        self._pending = ""

    def write(self, text: str) -> int:
        data = self._pending + text
        head, sep, self._pending = data.rpartition("\n")
        if sep:
            self._inner.write("\n".join(line.rstrip(" ") for line in head.split("\n")) + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._inner.write(self._pending.rstrip(" "))
            self._pending = ""
        self._inner.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._inner.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._inner, "encoding", "utf-8") or "utf-8"


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _CleanConsole(Console):
    """rich's Console that shows outside text's control sequences instead of obeying them
    (terminal_text.clean): every segment it prints but rich's own control segments (cursor moves of a
    live table) is cleaned, so a print, a table cell, an error or a live view never carries an ESC
    from data; rich's colours are kept (they are styles, added after this, not text)."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        # Cleaned before rich measures it, so a table's columns fit the text as shown.
        return super().render_str(clean(text), **kwargs)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or is_clean(segment.text):
                yield segment
            else:
                yield Segment(clean(segment.text), segment.style)


class _Console(_CleanConsole):
    """... and a reader that went away is the CLI's to handle: rich would exit 1 itself, and the
    README promises 141 (cli._closed_pipe)."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def console() -> Console:
    out = sys.stdout
    no_color = bool(os.environ.get("NO_COLOR"))
    if _is_tty(out):
        return _Console(no_color=no_color, highlight=False, soft_wrap=True)
    return _Console(file=cast(IO[str], _Unpadded(out)), no_color=no_color, highlight=False, soft_wrap=True,
                    width=PIPE_WIDTH)


def error_console() -> Console:
    width = None if _is_tty(sys.stderr) else PIPE_WIDTH
    return _CleanConsole(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=True,
                         width=width)


def print_json(kind: str, data: Any) -> None:
    """Every `--json` output: {"schema": "gitopslab/<kind>", "version": 1, "data": ...}."""
    envelope = {"schema": f"gitopslab/{kind}", "version": JSON_SCHEMA_VERSION, "data": data}
    sys.stdout.write(json.dumps(envelope, indent=2, sort_keys=False) + "\n")
