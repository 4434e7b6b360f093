"""Console output: rich consoles that respect NO_COLOR, and the versioned JSON envelope."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console

JSON_SCHEMA_VERSION = 1


def _width() -> int | None:
    # Piped output (CI logs, `| less`) gets room for whole URLs instead of rich's 80 columns.
    return None if sys.stdout.isatty() else 160


def console() -> Console:
    return Console(no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=False, width=_width())


def error_console() -> Console:
    return Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


def print_json(kind: str, data: Any) -> None:
    """Every `--json` output: {"schema": "gitopslab/<kind>", "version": 1, "data": ...}."""
    envelope = {"schema": f"gitopslab/{kind}", "version": JSON_SCHEMA_VERSION, "data": data}
    sys.stdout.write(json.dumps(envelope, indent=2, sort_keys=False) + "\n")
