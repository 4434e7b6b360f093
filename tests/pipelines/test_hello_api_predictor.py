"""The hello-api template's predictor tests (app/predictor.py: /predict without sklearn's per-call checks,
the same answers as predict_proba, only where verified at load) run here too, as the limits tests do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "pipelines" / "hello-api"


def test_hello_api_answers_as_predict_proba_does_on_its_fast_path() -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_predictor.py"],
                          cwd=APP, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "4 passed" in done.stdout and "skipped" not in done.stdout
