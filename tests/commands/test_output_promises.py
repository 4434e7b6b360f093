"""What the README and the docs promise about output, as a new user checks it (issue 23, item 6):
141 when the pipe's reader went away, a report (not a traceback) on a console without ✓, one JSON
document with --json, on success and on failure alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def gl(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=full, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("argv", [["version"], ["config"], ["urls"], ["tools"], ["bundle", "list"],
                                  ["doctor", "--only", "host"], ["urls", "--help"], ["config", "schema"]],
                         ids=" ".join)
def test_every_verb_exits_141_when_the_reader_is_gone(argv: list[str], tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # `gitopslab ... | head -1` after head has exited
    env = {**os.environ, "PYTHONPATH": str(REPO), "PATH": str(tmp_path)}  # no docker, no k3d: quick
    proc = subprocess.run([sys.executable, "-m", "gitopslab", *argv], stdout=write_end, stderr=subprocess.PIPE,
                          text=True, env=env, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL)
    os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_doctor_on_a_cp1252_console_reports_instead_of_a_traceback(tmp_path: Path) -> None:
    proc = gl("doctor", "--only", "host", cwd=tmp_path, PYTHONIOENCODING="cp1252", PATH=str(tmp_path))
    assert "Traceback" not in proc.stderr and "UnicodeEncodeError" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1)
    assert "engine" in proc.stdout  # the report is there, its symbols as `?`


def test_a_failing_verb_with_json_prints_an_error_document(tmp_path: Path) -> None:
    proc = gl("creds", "--json", "--name", "nolab", cwd=tmp_path)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "gitopslab/error" and doc["ok"] is False
    assert "no credentials yet" in doc["error"]["message"] and "gitopslab up" in doc["error"]["hint"]
    assert doc["error"]["exit_code"] == 1
    assert "error:" in proc.stderr  # the person reading the terminal still sees it


def test_config_validate_json_is_a_document_valid_or_not(tmp_path: Path) -> None:
    ok = gl("config", "validate", "--json", cwd=tmp_path)
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["data"]["valid"] is True
    (tmp_path / "gitopslab.yaml").write_text("ports:\n  gitea: 99999\n", encoding="utf-8")
    bad = gl("config", "validate", "--json", cwd=tmp_path)
    assert bad.returncode == 2
    doc = json.loads(bad.stdout)
    assert doc["ok"] is False and "ports.gitea" in doc["error"]["message"]


def test_open_json_prints_the_address_as_a_document(tmp_path: Path) -> None:
    from gitopslab.state import LabState

    LabState("openlab").put_secret("gitea_admin_password", "pw")
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
    with subprocess.Popen([sys.executable, "-m", "gitopslab", "open", "--json", "--no-browser", "--name", "openlab"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
                          stdin=subprocess.DEVNULL) as proc:
        guard = threading.Timer(60, proc.kill)  # a text line instead of the document must not hang the test
        guard.start()
        try:
            lines = []
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if line == "}\n":
                    break
        finally:
            guard.cancel()
            proc.terminate()
    doc = json.loads("".join(lines))
    assert doc["schema"] == "gitopslab/open" and doc["data"]["url"].startswith("http://127.0.0.1:")
