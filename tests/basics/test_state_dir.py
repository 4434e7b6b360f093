"""Issue 23.10: the state dir is the user's alone. It is created 0700 whoever makes it first (the log
setup did, 0755); one another user owns or may write to is refused with the fix, nothing written in
it; a symlink planted in it is never written through."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gitopslab import logsetup
from gitopslab.errors import LabError
from gitopslab.files import atomic_write
from gitopslab.state import LabState

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX owners and modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_log_setup_makes_the_state_dir_0700_with_its_missing_parents(tmp_path: Path) -> None:
    root = tmp_path / "xdg" / "gitopslab"
    state = LabState("lab1", root)
    logsetup.configure(verbose=False)
    with logsetup.to_file(state, "up") as log:
        pass
    logsetup.configure(verbose=False)
    assert [_mode(p) for p in (tmp_path / "xdg", root, state.dir, log.parent)] == [0o700] * 4
    assert _mode(log) == 0o600


def test_every_first_writer_makes_the_state_dir_0700(tmp_path: Path) -> None:
    for n, first in enumerate([lambda s: s.secrets(), lambda s: s.mark_done("x"),
                               lambda s: s.lock("up").__enter__(),
                               lambda s: atomic_write(s.kubeconfig, b"k", mode=0o600)]):
        state = LabState(f"lab{n}", tmp_path / f"root{n}")
        first(state)
        assert (_mode(state.dir.parent), _mode(state.dir)) == (0o700, 0o700), n


def test_a_state_dir_others_can_write_is_refused_and_left_alone(tmp_path: Path) -> None:
    state = LabState("lab", tmp_path)
    state.dir.mkdir()
    os.chmod(state.dir, 0o777)
    for act in (state.secrets, lambda: state.mark_done("x"), lambda: state.lock("up").__enter__()):
        with pytest.raises(LabError) as err:
            act()
        assert str(state.dir) in err.value.message and "writable by other users (mode 0777)" in err.value.message
        assert f"chmod 700 {state.dir}" in (err.value.hint or "")
    assert list(state.dir.iterdir()) == []  # nothing written, nothing read
    assert _mode(state.dir) == 0o777  # and not changed behind the user's back


def test_a_state_dir_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = LabState("lab", tmp_path)
    state.dir.mkdir(mode=0o700)
    me = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: me + 4242)  # as if another user had made the folder
    with pytest.raises(LabError) as err:
        state.secrets()
    assert f"{state.dir} is not yours" in err.value.message and f"user id {me}" in err.value.message
    assert "GITOPSLAB_STATE_DIR" in (err.value.hint or "")
    assert list(state.dir.iterdir()) == []


def test_a_readable_state_dir_of_an_older_gitopslab_is_tightened(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    state = LabState("lab", tmp_path)
    state.dir.mkdir()
    os.chmod(state.dir, 0o755)
    state.secrets()
    assert _mode(state.dir) == 0o700
    assert "was mode 0755 (readable by others): set to 0700" in caplog.text


def test_a_planted_symlink_is_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text('{"precious": 1}\n')
    state = LabState("lab", tmp_path / "root")
    state.ensure_dir()
    (state.dir / ".state.lock").symlink_to(victim)
    with pytest.raises(LabError, match="symlink, which gitopslab never follows"):
        state.secrets()
    (state.dir / ".state.lock").unlink()
    state.lock_file.symlink_to(victim)
    with pytest.raises(LabError, match="symlink"), state.lock("up"):
        pass
    state.lock_file.unlink()
    state.journal_file.symlink_to(victim)
    state.mark_done("x")  # replaces the link with a file of its own
    assert victim.read_text() == '{"precious": 1}\n' and _mode(victim) != 0o600
    assert not state.journal_file.is_symlink() and "x" in state.journal()
