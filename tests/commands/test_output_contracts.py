"""Output contracts, as a script sees them: the CLI run as a subprocess, stdout parsed.

--json prints one JSON document and nothing else; `status`'s `ok` is its exit code; a closed pipe ends
quietly; error, fix and table lines are never broken by gitopslab, and piped output carries no padding.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def gl(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO), "COLUMNS": "40", **env}
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=full, stdin=subprocess.DEVNULL)


def _no_k3d_path(tmp_path: Path) -> str:
    """PATH with docker (and git) but no k3d: the cluster part is 'not checked', quickly."""
    import shutil

    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for tool in ("docker", "git"):
        found = shutil.which(tool)
        if found and not (bindir / tool).exists():
            (bindir / tool).symlink_to(found)
    return str(bindir)


@pytest.mark.engine
def test_destroy_yes_json_is_one_document(engine: str, tmp_path: Path, unique_name: str) -> None:
    proc = gl("destroy", "--yes", "--json", "--name", unique_name, cwd=tmp_path, PATH=_no_k3d_path(tmp_path))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # the whole stdout: no text line before or after
    assert doc["schema"] == "gitopslab/destroy" and doc["data"]["removed"] is True
    assert any(note.startswith("cluster: not checked") for note in doc["data"]["notes"])


@pytest.mark.engine
def test_down_json_is_data(engine: str, tmp_path: Path, unique_name: str) -> None:
    proc = gl("down", "--json", "--name", unique_name, cwd=tmp_path, PATH=_no_k3d_path(tmp_path))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "gitopslab/down"
    data = doc["data"]
    assert data["lab"] == unique_name and data["compose"] == {"state": "stopped", "data_kept": True}
    assert data["cluster"]["state"] == "unknown" and data["next"] == f"gitopslab up --name {unique_name}"


@pytest.mark.engine
def test_status_json_ok_is_the_exit_code(engine: str, tmp_path: Path, unique_name: str) -> None:
    proc = gl("status", "--json", "--name", unique_name, cwd=tmp_path, PATH=_no_k3d_path(tmp_path))
    doc = json.loads(proc.stdout)["data"]
    assert doc["ok"] is (proc.returncode == 0)
    assert doc["running"] is False and proc.returncode == 0  # a lab that is down is not broken


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte, as with `| head -1` on a big output
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "config", "schema"], stdout=write_end,
                          stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path, timeout=60)
    os.close(write_end)
    assert proc.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert proc.returncode == 141


def test_error_and_fix_lines_are_never_wrapped(tmp_path: Path) -> None:
    proc = gl("creds", "--name", "a-lab-with-a-longer-name-here", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    error = next(line for line in lines if line.startswith("error: "))
    fix = next(line for line in lines if line.startswith("  fix: "))
    assert "a-lab-with-a-longer-name-here" in error and len(error) > 40
    assert "gitopslab up" in fix and len(lines) == 2


def test_doctor_fix_lines_stay_whole_on_narrow_terminals_and_pipes(tmp_path: Path) -> None:
    name = "gitea." + "x" * 60 + ".localhost"  # the lab only takes .localhost names; this one resolves nowhere here
    proc = gl("doctor", "--only", "host", cwd=tmp_path, GITOPSLAB_HOSTNAMES__GITEA=name)
    fix = next(line for line in proc.stdout.splitlines() if "fix: " in line and "hosts --apply" in line)
    assert f"127.0.0.1 {name}" in fix and "127.0.0.1 woodpecker.localhost" in fix  # one line, every name
    assert all(line == line.rstrip() for line in proc.stdout.splitlines())


def test_piped_tables_take_their_natural_width_without_padding(tmp_path: Path) -> None:
    name = "gitea." + "y" * 60 + "." + "z" * 60 + ".localhost"
    proc = gl("urls", cwd=tmp_path, GITOPSLAB_HOSTNAMES__GITEA=name)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(f"http://{name}:3000" in line for line in lines)  # not folded, not cut
    assert all(line == line.rstrip() for line in lines)
    plain = gl("urls", cwd=tmp_path).stdout.splitlines()
    assert max(len(line) for line in plain) < 120  # as wide as the content, not a fixed 160
