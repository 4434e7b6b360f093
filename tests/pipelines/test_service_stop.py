"""tests/support/services.stop_group, the one way the delivery-flow services, the doctor's real-MLflow test
and benchmarks/serving.py end a server: its whole process group goes, SIGKILL after the grace when SIGTERM
is ignored (MLflow's forked workers outlived their parent otherwise)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.support.services import stop_group


def _gone(pid: int) -> bool:
    """No such process, or a zombie waiting for init to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_group_that_ignores_sigterm_is_killed_child_and_all(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # The ignored SIGTERM is inherited by the forked `sleep`, as a worker that does not stop on TERM.
    proc = subprocess.Popen(["sh", "-c", f'trap "" TERM; sleep 300 & echo $! > {pidfile}; wait'],
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline, f"the test's shell never wrote {pidfile}"
        time.sleep(0.05)
    child = int(pidfile.read_text())
    stop_group(proc, grace=0.5)
    assert proc.returncode == -9  # SIGKILL, after SIGTERM was ignored
    while not _gone(child):
        assert time.monotonic() < deadline, f"the forked child {child} outlived stop_group"
        time.sleep(0.05)


def test_a_server_already_gone_is_left_alone() -> None:
    proc = subprocess.Popen(["true"], start_new_session=True)
    proc.wait(30)
    stop_group(proc, grace=0.5)  # no killpg of a group that no longer exists
    assert proc.returncode == 0
