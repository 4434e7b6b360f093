"""Console output: rich consoles that respect NO_COLOR, and the versioned JSON envelope."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console

JSON_SCHEMA_VERSION = 1


def console() -> Console:
    return Console(no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=False)


def error_console() -> Console:
    return Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


def print_json(kind: str, data: Any) -> None:
    """Every `--json` output: {"schema": "gitopslab/<kind>", "version": 1, "data": ...}."""
    envelope = {"schema": f"gitopslab/{kind}", "version": JSON_SCHEMA_VERSION, "data": data}
    sys.stdout.write(json.dumps(envelope, indent=2, sort_keys=False) + "\n")
