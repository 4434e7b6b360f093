"""Issue 23 item 3: the fixes gitopslab prints run as printed. After ./start.sh the venv is not on PATH:
a printed `gitopslab tools install k3d` must name this gitopslab's full path, and a sudo fix must
not rely on `$(command -v gitopslab)`, which then expands to nothing."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from gitopslab import invocation
from gitopslab.drivers import hosts_file

VENV_GITOPSLAB = Path(sys.executable).absolute().parent / "gitopslab"  # the script start.sh runs


def test_up_without_the_venv_on_path_prints_fixes_that_run_as_printed(tmp_path, unique_name):
    empty = tmp_path / "bin"
    empty.mkdir()  # neither the venv, nor k3d, nor an engine: preflight lists every problem
    env = {**os.environ, "PATH": str(empty), "NO_COLOR": "1", "COLUMNS": "400",
           "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    done = subprocess.run([str(VENV_GITOPSLAB), "up", "--name", unique_name], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL)
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    printed = f"{shlex.quote(str(VENV_GITOPSLAB))} tools install k3d"
    assert printed in text, text
    assert "\n      fix: gitopslab " not in text and "fix: gitopslab tools" not in text, text
    # pasted into the same shell (the same PATH), the program part of the printed fix runs
    pasted = subprocess.run([*shlex.split(printed)[:1], "version"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert pasted.returncode == 0 and "gitopslab" in pasted.stdout, pasted.stdout + pasted.stderr


def test_the_sudo_fix_names_an_absolute_program(monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(VENV_GITOPSLAB), "hosts"])
    hint = hosts_file.elevated_hint("hosts --apply")
    if sys.platform != "win32":
        assert hint == f"sudo {shlex.quote(str(VENV_GITOPSLAB))} hosts --apply"
        assert "command -v" not in hint


def test_plain_gitopslab_where_that_name_on_path_is_this_program(monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(VENV_GITOPSLAB), "up"])
    monkeypatch.setenv("PATH", f"{VENV_GITOPSLAB.parent}{os.pathsep}{os.environ['PATH']}")
    assert invocation.command() == "gitopslab"
    assert invocation.spell("run `gitopslab up` (settings: gitopslab.yaml)", ["up"]) == \
        "run `gitopslab up` (settings: gitopslab.yaml)"
    monkeypatch.setenv("PATH", "/nonexistent")
    assert invocation.spell("run `gitopslab up`; the gitopslab network; gitopslab.yaml", ["up"]) == \
        f"run `{shlex.quote(str(VENV_GITOPSLAB))} up`; the gitopslab network; gitopslab.yaml"
