"""The hello-api template's own limits tests (body cap, 415, 422 for numbers and nesting JSON cannot
hold) run here too, against the real app in this venv, so the lab's suite holds the promise as well
as the template's CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "pipelines" / "hello-api"


def test_hello_api_refuses_hostile_bodies() -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_limits.py"],
                          cwd=APP, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout
