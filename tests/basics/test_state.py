"""State: secrets 0600 and stable, journal, the lock refusing a second holder."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab.errors import LockedError
from gitopslab.state import SECRET_SPECS, LabState


def test_secrets_file_is_0600_and_values_stable(tmp_path: Path) -> None:
    state = LabState("lab", tmp_path)
    first = state.secrets()
    mode = stat.S_IMODE(state.secrets_file.stat().st_mode)
    assert mode == 0o600
    assert set(SECRET_SPECS) <= set(first)
    assert all(len(first[k]) == n for k, n in SECRET_SPECS.items())
    again = LabState("lab", tmp_path).secrets()
    assert again == first
    other = LabState("other", tmp_path).secrets()
    assert other["gitea_admin_password"] != first["gitea_admin_password"]


def test_put_secret_keeps_mode_and_others(tmp_path: Path) -> None:
    state = LabState("lab", tmp_path)
    before = state.secrets()
    state.put_secret("gitea_token", "tok-123")
    after = state.secrets()
    assert after["gitea_token"] == "tok-123"
    assert {k: v for k, v in after.items() if k != "gitea_token"} == before
    assert stat.S_IMODE(state.secrets_file.stat().st_mode) == 0o600


def test_corrupt_state_is_reported_not_overwritten(tmp_path: Path) -> None:
    state = LabState("lab", tmp_path)
    state.secrets()
    state.secrets_file.write_text("{not json")
    from gitopslab.errors import LabError

    with pytest.raises(LabError, match="cannot be read") as err:
        state.secrets()
    assert "mv " in (err.value.hint or "")
    assert state.secrets_file.read_text() == "{not json"


def test_journal(tmp_path: Path) -> None:
    state = LabState("lab", tmp_path)
    assert not state.is_done("compose.up")
    state.mark_done("compose.up")
    assert LabState("lab", tmp_path).is_done("compose.up")
    state.reset_journal(["compose.up"])
    assert not state.is_done("compose.up")


def test_lock_refuses_a_second_holder_naming_the_pid(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from gitopslab.state import LabState\n"
         "s = LabState('lab', Path(sys.argv[1]))\n"
         "with s.lock('up'):\n    print('held', flush=True); time.sleep(30)\n", str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError) as err, LabState("lab", tmp_path).lock("down"):
            pass
        assert f"PID {holder.pid}" in err.value.message and "gitopslab up" in err.value.message
        assert err.value.exit_code == 2
    finally:
        holder.kill()
        holder.wait()
    # the holder died without cleaning up: the OS released its lock; the file stays, never deleted
    with LabState("lab", tmp_path).lock("up"):
        assert (tmp_path / "lab" / "lock").read_text().split()[0] == str(os.getpid())
    assert (tmp_path / "lab" / "lock").is_file()


def test_stored_secret_only_looks(tmp_path: Path) -> None:
    """The doctor's read: no file, a damaged file or a missing name is None, and nothing is written."""
    state = LabState("lab", tmp_path)
    assert state.stored_secret("gitea_admin_password") is None and not state.dir.exists()
    state.dir.mkdir()
    for damaged in ("{not json", "[1, 2]"):
        state.secrets_file.write_text(damaged)
        assert state.stored_secret("gitea_admin_password") is None
        assert state.secrets_file.read_text() == damaged
    state.secrets_file.write_text('{"woodpecker_token": "wp", "empty": ""}')
    assert state.stored_secret("woodpecker_token") == "wp"
    assert state.stored_secret("empty") is None and state.stored_secret("gitea_admin_password") is None
    assert state.secrets_file.read_text() == '{"woodpecker_token": "wp", "empty": ""}'


def test_log_files_lists_the_command_logs(tmp_path: Path) -> None:
    state = LabState("lab", tmp_path)
    assert state.log_files() == []
    (state.dir / "logs").mkdir(parents=True)
    for name in ("up-2.log", "down-1.log", "notes.txt"):
        (state.dir / "logs" / name).write_text("x")
    assert [p.name for p in state.log_files()] == ["down-1.log", "up-2.log"]


def test_stored_secrets_never_generates_and_a_damaged_file_stops_the_reader(tmp_path: Path) -> None:
    from gitopslab.errors import LabError

    state = LabState("lab", tmp_path)
    assert state.stored_secrets() == {} and not state.dir.exists()
    state.dir.mkdir()
    state.secrets_file.write_text('{"woodpecker_token": "wp"}')
    assert state.stored_secrets() == {"woodpecker_token": "wp"}
    assert state.secrets_file.read_text() == '{"woodpecker_token": "wp"}'
    state.secrets_file.write_text("{not json")
    with pytest.raises(LabError):
        state.stored_secrets()
