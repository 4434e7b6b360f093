"""State under concurrency and hostile files: real processes and threads, real damaged files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gitopslab.errors import LabError, LockedError
from gitopslab.state import LabState

RACER = """
import sys, time
from pathlib import Path
from gitopslab.errors import LockedError
from gitopslab.state import LabState
root, log, me = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
state, turns, deadline = LabState("lab", root), 0, time.monotonic() + 20
while turns < 5 and time.monotonic() < deadline:
    try:
        with state.lock("up"):
            with log.open("a") as fh:
                fh.write(f"enter {me}\\n")
            time.sleep(0.02)
            with log.open("a") as fh:
                fh.write(f"exit {me}\\n")
            turns += 1
    except LockedError:
        time.sleep(0.001)
print(turns)
"""


def test_six_racing_processes_never_hold_the_lock_together(tmp_path: Path) -> None:
    log = tmp_path / "holders.log"
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path), str(log), str(i)],
                               stdout=subprocess.PIPE, text=True) for i in range(6)]
    turns = [int(p.communicate(timeout=60)[0].strip()) for p in racers]
    lines = log.read_text().split("\n")[:-1]
    assert sum(turns) == len(lines) // 2 and sum(turns) >= 6
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):  # strictly enter/exit of the same holder
        assert enter.startswith("enter ") and leave == f"exit {enter.split()[1]}", lines


def test_a_lock_path_that_is_a_folder_is_named_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "lab" / "lock").mkdir(parents=True)
    with pytest.raises(LockedError) as err, LabState("lab", tmp_path).lock("up"):
        pass
    assert "is a folder" in err.value.message and "mv " in (err.value.hint or "")


def test_two_threads_marking_steps_keep_the_journal_whole(tmp_path: Path) -> None:
    state = LabState("lab", tmp_path)
    errors: list[BaseException] = []

    def lane(name: str) -> None:
        try:
            for i in range(300):
                state.mark_done(f"{name}.{i}")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    lanes = [threading.Thread(target=lane, args=(n,)) for n in ("compose", "cluster")]
    for t in lanes:
        t.start()
    for t in lanes:
        t.join()
    assert errors == []
    journal = json.loads(state.journal_file.read_text())
    assert len(journal) == 600
    assert not [p for p in state.dir.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("content", ['"x"', "null", "[]", '{"gitea_admin_password": 5}'])
def test_secrets_of_the_wrong_shape_are_named_and_kept(tmp_path: Path, content: str) -> None:
    state = LabState("lab", tmp_path)
    state.dir.mkdir(parents=True)
    state.secrets_file.write_text(content)
    state.secrets_file.chmod(0o600)
    with pytest.raises(LabError) as err:
        state.secrets()
    assert str(state.secrets_file) in err.value.message and "mv " in (err.value.hint or "")
    assert state.secrets_file.read_text() == content  # never regenerated behind the user's back


def test_journal_and_settings_of_the_wrong_shape_are_named(tmp_path: Path) -> None:
    state = LabState("lab", tmp_path)
    state.dir.mkdir(parents=True)
    state.journal_file.write_text("[1, 2]")
    state.settings_file.write_text('{"lab": "x"}')
    with pytest.raises(LabError, match="journal.json"):
        state.is_done("compose.core")
    with pytest.raises(LabError, match="settings.json"):
        state.stored_settings()


def test_a_secrets_file_readable_by_others_is_tightened_on_read(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    state = LabState("lab", tmp_path)
    state.secrets()
    os.chmod(state.secrets_file, 0o644)
    before = state.secrets()
    assert stat.S_IMODE(state.secrets_file.stat().st_mode) == 0o600
    assert "readable by others" in caplog.text
    assert state.secrets() == before


def test_a_missing_credential_is_generated_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = LabState("lab", tmp_path)
    data = state.secrets()
    del data["gitea_admin_password"]
    state.secrets_file.write_text(json.dumps(data))
    state.secrets()
    assert "had no gitea_admin_password" in caplog.text


def test_workshop_password_sets_a_new_labs_human_logins_only(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    from gitopslab.state import HUMAN_LOGINS

    fresh = LabState("room", tmp_path)
    assert fresh.use_workshop_password("Workshop-2026!")
    secrets = fresh.secrets()
    assert all(secrets[name] == "Workshop-2026!" for name in HUMAN_LOGINS)
    assert secrets["woodpecker_agent_secret"] != "Workshop-2026!"  # machine secrets stay random
    assert stat.S_IMODE(fresh.secrets_file.stat().st_mode) == 0o600
    existing = LabState("old", tmp_path)
    before = existing.secrets()
    existing.mark_done("compose.gitea")  # a service was made with these passwords
    assert not existing.use_workshop_password("Workshop-2026!")
    assert existing.secrets() == before and "new labs only" in caplog.text


def test_a_new_lab_whose_secrets_open_made_takes_the_workshop_password_without_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Issue 23 item 16: `gitopslab open` or `logs` before the first `up` generate the secrets (LabState.secrets);
    # `up` then warned "applies to new labs only" and kept the random passwords, though nothing used them yet.
    from gitopslab.state import HUMAN_LOGINS

    lab = LabState("room", tmp_path)
    lab.secrets()
    random_ones = lab.stored_secrets()
    assert lab.use_workshop_password("Workshop-2026!")
    secrets = lab.secrets()
    assert all(secrets[name] == "Workshop-2026!" for name in HUMAN_LOGINS)
    assert secrets["woodpecker_agent_secret"] == random_ones["woodpecker_agent_secret"]  # machine secrets kept
    assert "new labs only" not in caplog.text
    assert not lab.use_workshop_password("Workshop-2026!")  # a resumed `up`: nothing to do, nothing said
    assert "new labs only" not in caplog.text


def test_a_short_workshop_password_is_refused_with_the_rule() -> None:
    from gitopslab.model.config import LabConfig

    with pytest.raises(ValueError, match="12 or more"):
        LabConfig.model_validate({"credentials": {"workshop_password": "short"}})


HOLDER = """
import sys, time
from pathlib import Path
from gitopslab.state import LabState
with LabState("lab", Path(sys.argv[1])).lock("up"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_killed_holders_lock_is_free_at_once_and_the_file_stays(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError), LabState("lab", tmp_path).lock("up"):
            pass
    finally:
        holder.kill()  # SIGKILL: no cleanup runs, the lock file stays behind
        holder.wait(timeout=30)
    lock_file = LabState("lab", tmp_path).lock_file
    assert lock_file.exists()
    with LabState("lab", tmp_path).lock("up"):  # the OS released it with the process: no takeover needed
        assert lock_file.exists()
    assert lock_file.exists()  # never deleted, so no unlink-then-create race
