"""scripts/test.sh's tests beside the real-stack build (tests/support/real_stack_wait.py), run as an inner
pytest session in a subprocess: the order the tests ran in, what it prints, and how a failed build ends it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.real_stack_wait import wait_for_build

REPO = Path(__file__).resolve().parents[2]

TESTS = {
    "test_cluster.py": "import pytest\n\n@pytest.mark.engine\ndef test_engine():\n    print('RAN engine')\n\n"
                       "def test_same_module_plain():\n    print('RAN same-module')\n",
    "test_unit.py": "def test_unit():\n    print('RAN unit')\n",
}


def inner_run(tmp_path: Path, status: str | None, log: str = "real-stack: built kwok v0.8.0 in 71 s\n",
              ) -> subprocess.CompletedProcess[str]:
    for name, body in TESTS.items():
        (tmp_path / name).write_text(body)
    state = tmp_path / "build"
    state.mkdir()
    (state / "build.log").write_text(log)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITOPSLAB_REAL_STACK")}
    env["PYTHONPATH"] = str(REPO)
    env["GITOPSLAB_REAL_STACK_STATUS"] = str(state / "build.status")
    if status is not None:
        (state / "build.status").write_text(status + "\n")
    return subprocess.run([sys.executable, "-m", "pytest", "-s", "-p", "tests.support.real_stack_wait",
                           "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestUnknownMarkWarning", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def ran(out: str) -> list[str]:
    return [line.split("RAN ", 1)[1] for line in out.splitlines() if "RAN " in line]


def test_tests_that_need_no_engine_run_first_then_the_build_output_then_the_rest(tmp_path: Path) -> None:
    done = inner_run(tmp_path, "0")
    assert done.returncode == 0, done.stdout + done.stderr
    # test_cluster.py sorts first, but a module with an engine test waits as a whole.
    assert ran(done.stdout) == ["unit", "engine", "same-module"]
    out = done.stdout
    assert out.index("RAN unit") < out.index("real-stack: built kwok v0.8.0 in 71 s") < out.index("RAN engine")
    assert "the real-stack build ended with status 0" in out
    assert "3 passed" in out


def test_a_failed_build_ends_the_run_after_the_tests_beside_it_with_its_output(tmp_path: Path) -> None:
    done = inner_run(tmp_path, "1", log="real-stack: FAILED (go:trivy): `go build -trimpath ...` failed (1)\n")
    assert done.returncode == 1
    assert ran(done.stdout) == ["unit"]
    assert "FAILED (go:trivy)" in done.stdout
    assert "scripts/real-stack/build.py failed (status 1)" in done.stdout + done.stderr


def test_without_the_variable_the_order_is_pytests_own(tmp_path: Path) -> None:
    for name, body in TESTS.items():
        (tmp_path / name).write_text(body)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITOPSLAB_REAL_STACK")} | {"PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-s", "-p", "tests.support.real_stack_wait", "-p",
                           "no:cacheprovider", "-W", "ignore::pytest.PytestUnknownMarkWarning", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ran(done.stdout) == ["engine", "same-module", "unit"]
    assert "real-stack build" not in done.stdout


def test_the_wait_returns_the_status_once_it_lands(tmp_path: Path) -> None:
    status = tmp_path / "build.status"
    writer = subprocess.Popen(["sh", "-c", f"sleep 1; echo 3 > {status}.tmp; mv {status}.tmp {status}"])
    started = time.monotonic()
    assert wait_for_build(status, writer.pid, limit_s=30, poll_s=0.1) == 3
    assert time.monotonic() - started >= 0.9
    writer.wait()


def test_a_build_gone_without_a_status_is_said_at_once(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    (tmp_path / "build.log").write_text("real-stack: building trivy v0.74.0\n")
    with pytest.raises(TimeoutError, match=r"ended without writing .*building trivy v0\.74\.0"):
        wait_for_build(tmp_path / "build.status", gone.pid, limit_s=30, poll_s=0.1)


def test_a_build_past_the_limit_names_the_last_line_and_the_log(tmp_path: Path) -> None:
    (tmp_path / "build.log").write_text("real-stack: building gitea v1.26.4\n")
    with pytest.raises(TimeoutError, match=r"no status .* within 0 min; last log line: real-stack: building gitea"):
        wait_for_build(tmp_path / "build.status", None, limit_s=0.2, poll_s=0.05)
