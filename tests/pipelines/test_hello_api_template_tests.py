"""The hello-api template's own tests run here too, against the real app in this venv, so the lab's suite
holds the template's promises as well as the template's CI: the limits (body cap, 415, 422 for numbers
and nesting JSON cannot hold) and the predictor (app/predictor.py: /predict without sklearn's per-call
checks, the same answers as predict_proba, only where verified at load)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "pipelines" / "hello-api"


@pytest.mark.parametrize(("tests", "passed"), [("tests/test_limits.py", " passed"),
                                               ("tests/test_predictor.py", "4 passed")])
def test_the_templates_tests_pass_here_and_none_skip(tests: str, passed: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", tests],
                          cwd=APP, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert passed in done.stdout and "skipped" not in done.stdout
