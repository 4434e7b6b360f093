"""What a killed `bundle load` leaves is cleared at the next load (issue 23 item 16): its staging folder
beside the state dir (`.bundle-load-<pid>-*`, a whole copy of images.tar) is removed, and a bundle
folder it had moved aside (`.bundle-old-<pid>`) is put back; a load that still runs keeps its own.

Before the fix the staging folder of a killed load stayed in the state dir for good."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitopslab.errors import LabError
from gitopslab.offline import archive
from tests.offline.test_archive_hostile import _KILLED_LOAD
from tests.support.bundles import NoEngine, bundle, images_tar, manifest

REPO = Path(__file__).resolve().parents[2]


def _staging(state: Path) -> list[str]:
    return sorted(p.name for p in state.iterdir() if p.name.startswith(".bundle-"))


def _refused_load(tmp_path: Path, dest: Path) -> None:
    """A next load of a bundle that is refused at once (no manifest): the sweep comes first all the same."""
    bad = bundle(tmp_path / "bad.tar", b"not json", b"x")
    with pytest.raises(LabError):
        archive.load(NoEngine(), bad, dest)


def test_a_killed_loads_staging_folder_is_removed_at_the_next_load(tmp_path: Path) -> None:
    dest = tmp_path / "state" / "bundle"
    dest.mkdir(parents=True)
    (dest / "f.yaml").write_bytes(b"old\n")
    images = images_tar(["a:1"])
    source = bundle(tmp_path / "b.tar", manifest(images, ["a:1"], {"f.yaml": b"new\n"}), images,
                    {"f.yaml": b"new\n"})
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_LOAD, str(source), str(dest)], cwd=REPO,
                            stdout=subprocess.PIPE, env=os.environ | {"PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"loading\n", "the load never reached the engine"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    left = _staging(dest.parent)
    assert len(left) == 1 and left[0].startswith(".bundle-load-"), left  # the kill left its staging folder

    _refused_load(tmp_path, dest)
    assert _staging(dest.parent) == []
    assert (dest / "f.yaml").read_bytes() == b"old\n"  # the last complete bundle is untouched


def test_a_bundle_moved_aside_by_a_killed_load_is_put_back(tmp_path: Path) -> None:
    """Killed between _install's two renames: no bundle/ folder, the last complete one under .bundle-old-<pid>."""
    state = tmp_path / "state"
    aside = state / f".bundle-old-{_dead_pid()}"
    aside.mkdir(parents=True)
    (aside / "f.yaml").write_bytes(b"old\n")
    _refused_load(tmp_path, state / "bundle")
    assert (state / "bundle" / "f.yaml").read_bytes() == b"old\n"
    assert _staging(state) == []


def test_a_running_loads_folders_are_left_alone_and_old_unnamed_ones_go(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "bundle").mkdir(parents=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    legacy = state / ".bundle-load-k2j4h5g6"  # from gitopslab before the PID was in the name
    try:
        running = [state / f".bundle-load-{sleeper.pid}-abcd1234", state / f".bundle-old-{sleeper.pid}"]
        for folder in [*running, legacy]:
            folder.mkdir()
        day_ago = time.time() - 86400
        os.utime(legacy, (day_ago, day_ago))
        _refused_load(tmp_path, state / "bundle")
        assert _staging(state) == sorted(p.name for p in running)
    finally:
        sleeper.kill()
        sleeper.wait(timeout=30)
    _refused_load(tmp_path, state / "bundle")  # their loader is gone now
    assert _staging(state) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid
