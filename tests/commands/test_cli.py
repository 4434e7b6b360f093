"""The command line: every verb's --help, --version, exit codes, NO_COLOR, not-built verbs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab import __version__
from gitopslab.cli import VERBS


def gl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env={**os.environ, "NO_COLOR": "1"})


@pytest.mark.parametrize("verb", list(VERBS))
def test_every_verb_has_help(verb: str) -> None:
    proc = gl(verb, "--help")
    assert proc.returncode == 0, proc.stderr
    assert f"usage: gitopslab {verb}" in proc.stdout
    assert "exit codes" in proc.stdout


def test_version_flag_and_verb() -> None:
    assert gl("--version").stdout.strip() == f"gitopslab {__version__}"
    proc = gl("version")
    assert proc.returncode == 0 and f"gitopslab {__version__}" in proc.stdout and "argocd" in proc.stdout


def test_no_verb_and_bad_verb_exit_2() -> None:
    assert gl().returncode == 2
    proc = gl("upp")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr and "--help" in proc.stderr


def test_creds_before_up_is_a_clear_error(tmp_path: Path) -> None:
    proc = gl("creds", cwd=tmp_path)
    assert proc.returncode == 1
    assert "has no credentials yet" in proc.stderr and "gitopslab up" in proc.stderr
    assert "\x1b[" not in proc.stderr  # NO_COLOR respected


def test_urls_json_shape(tmp_path: Path) -> None:
    import json

    doc = json.loads(gl("--json", "urls", cwd=tmp_path).stdout)
    assert doc["schema"] == "gitopslab/urls" and doc["version"] == 1
    assert {"service", "url", "runs_in", "profile"} <= set(doc["data"][0])
    assert any(r["url"] == "http://gitea.localhost:3000" for r in doc["data"])
