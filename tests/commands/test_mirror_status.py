"""`mirror status` on a machine without mirrors says so and how to start them, and with --json prints
one document only (issue 23, item 6). Needs the engine: it asks it for the mirror containers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def gl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "gitopslab", "mirror", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=env, stdin=subprocess.DEVNULL)


@pytest.mark.engine
def test_status_without_mirrors_names_the_next_command(engine: str, tmp_path: Path) -> None:
    running = subprocess.run([engine, "ps", "-q", "--filter", "label=io.gitopslab.mirror"], capture_output=True,
                             text=True, timeout=60).stdout.strip()
    assert not running, "a mirror runs on this machine: this test needs none"
    proc = gl("status", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "no registry mirror" in proc.stdout and "gitopslab mirror up" in proc.stdout
    doc = gl("status", "--json", cwd=tmp_path)
    assert json.loads(doc.stdout)["data"] == [] and doc.returncode == 0
