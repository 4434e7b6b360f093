"""Temp files of killed writers do not linger (issue 23 item 16): a writer killed between its temp file
and the rename left a whole copy of secrets.json (or the journal) in the state dir, forever. Now the
temp's name carries its writer's PID and the next use of the state dir removes those whose writer is
gone, never a running writer's.

Before the fix the killed writer's `.secrets.json.*.tmp` was still there after the next command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitopslab import files
from gitopslab.state import LabState

REPO = Path(__file__).resolve().parents[2]

# A writer killed (SIGKILL, nothing runs after it) at the moment its temp file is whole, before the rename.
_KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from gitopslab.state import LabState

state = LabState("lab", Path(sys.argv[1]))
os.replace = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
if sys.argv[2] == "secrets":
    state.put_secret("gitea_token", "tok-" + "x" * 40)
else:
    state.mark_done("compose.network")
"""


def _killed_writer(root: Path, what: str) -> None:
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(root), what], cwd=REPO, timeout=60,
                          capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


@pytest.mark.parametrize(("what", "name"), [("secrets", "secrets.json"), ("journal", "journal.json")])
def test_a_killed_writers_copy_is_gone_at_the_next_use_of_the_state_dir(tmp_path: Path, what: str,
                                                                         name: str) -> None:
    LabState("lab", tmp_path).secrets()
    _killed_writer(tmp_path, what)
    left = _temps(tmp_path / "lab")
    assert len(left) == 1 and left[0].startswith(f".{name}."), left  # the crash left its copy...
    if what == "secrets":
        assert "tok-" in (tmp_path / "lab" / left[0]).read_text()     # ... holding the credentials

    # The next command, in a new process, as a user runs one: `gitopslab creds` reads the secrets.
    proc = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from gitopslab.state "
                           "import LabState; LabState('lab', Path(sys.argv[1])).secrets()", str(tmp_path)],
                          cwd=REPO, timeout=60, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert _temps(tmp_path / "lab") == []
    assert "gitea_token" not in LabState("lab", tmp_path).stored_secrets()  # the killed write never landed


def test_a_copy_in_a_folder_of_the_state_dir_goes_too(tmp_path: Path) -> None:
    """compose/lab.env and k3d/cluster.yaml hold credentials too; their dead copies are swept with the rest."""
    dead = _dead_pid()
    env_copy = tmp_path / "lab" / "compose" / f".lab.env.{dead}-abcd1234.tmp"
    env_copy.parent.mkdir(parents=True)
    env_copy.write_text("GITEA_ADMIN_PASSWORD=secret\n")
    LabState("lab", tmp_path).secrets()
    assert not env_copy.exists()


def test_a_running_writers_temp_is_never_removed(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".secrets.json.{sleeper.pid}-abcd1234.tmp"
        live.write_text("{}")
        mine = tmp_path / f".journal.json.{os.getpid()}-abcd1234.tmp"  # another thread of this process
        mine.write_text("{}")
        assert files.sweep_stale_temps(tmp_path) == []
        assert live.exists() and mine.exists()
    finally:
        sleeper.kill()
        sleeper.wait(timeout=30)
    assert files.sweep_stale_temps(tmp_path) == [live]  # its writer is gone now


def test_temps_from_before_the_pid_was_in_the_name_go_once_old(tmp_path: Path) -> None:
    old, young = tmp_path / ".secrets.json.k2j4h5g6.tmp", tmp_path / ".journal.json.a1b2c3d4.tmp"
    for path in (old, young):
        path.write_text("{}")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    assert files.sweep_stale_temps(tmp_path) == [old]
    assert young.exists()


def test_only_temp_files_are_swept(tmp_path: Path) -> None:
    """The user's own files, a folder or a link named like a temp, and a write's own copy stay."""
    dead = _dead_pid()
    keep = [tmp_path / "secrets.json", tmp_path / "notes.tmp", tmp_path / f"secrets.json.{dead}-abcd1234.tmp"]
    for path in keep:
        path.write_text("x")
    (tmp_path / f".kubeconfig.{dead}-abcd1234.tmp").mkdir()
    (tmp_path / f".settings.json.{dead}-abcd1234.tmp").symlink_to(tmp_path / "secrets.json")
    assert files.sweep_stale_temps(tmp_path) == []
    files.atomic_write(tmp_path / "secrets.json", b"{}")  # and a write sweeps only its own file's copies
    assert all(p.exists() for p in keep) and _temps(tmp_path) == sorted(
        [f".kubeconfig.{dead}-abcd1234.tmp", f".settings.json.{dead}-abcd1234.tmp"])


def test_an_atomic_write_removes_the_dead_copies_of_its_own_file(tmp_path: Path) -> None:
    dead = _dead_pid()
    stale, other = tmp_path / f".hosts.{dead}-abcd1234.tmp", tmp_path / f".other.{dead}-abcd1234.tmp"
    stale.write_text("old copy")
    other.write_text("not ours to judge here")
    files.atomic_write(tmp_path / "hosts", b"127.0.0.1 localhost\n")
    assert not stale.exists() and other.exists()
    assert _temps(tmp_path) == [other.name]


def _dead_pid() -> int:
    """The PID of a process that has exited (reaped): no writer holds it."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid
