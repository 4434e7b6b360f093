"""Tests beside a cold real-stack build (a pytest plugin; scripts/test.sh turns it on).

scripts/test.sh starts `scripts/real-stack/build.py` in the background and names, in
GITOPSLAB_REAL_STACK_STATUS, the file its exit status will be written to (the log beside it, `.log`)
and, in GITOPSLAB_REAL_STACK_PID, the process. This plugin runs first the modules whose tests need neither
the engine nor the real stack, so they run while Go compiles (a cold build takes most of an hour on two
cores; a warm one seconds), and before the first test of the other modules waits for the build: the log
is printed, and a failed build ends the run with its tail. Without the variable nothing changes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

STATUS_VAR = "GITOPSLAB_REAL_STACK_STATUS"
PID_VAR = "GITOPSLAB_REAL_STACK_PID"
# A cold build of every tier measured under two hours on a busy 2-core machine; CI's limit is 90 minutes.
WAIT_LIMIT_S = 3 * 3600
# Read once at start-up: every test's _isolated_state fixture clears the GITOPSLAB_* variables.
_state: dict[str, str] = {}


def needs_real_stack(item: pytest.Item) -> bool:
    """tests/real runs the built programs; engine tests may run the images the build tags."""
    return item.nodeid.startswith("tests/real/") or item.get_closest_marker("engine") is not None


def beside_build_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """Whole modules, each kept in its order: those with no test that needs the build first."""
    late_modules = {item.nodeid.split("::")[0] for item in items if needs_real_stack(item)}
    early = [i for i in items if i.nodeid.split("::")[0] not in late_modules]
    return early + [i for i in items if i.nodeid.split("::")[0] in late_modules]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_for_build(status: Path, pid: int | None, limit_s: float = WAIT_LIMIT_S, poll_s: float = 2.0) -> int:
    """The build's exit status once `status` holds it. Raises TimeoutError past `limit_s`, or at once when
    the build's process is gone without writing one."""
    deadline = time.monotonic() + limit_s
    while True:
        text = status.read_text().strip() if status.exists() else ""
        if text.isdigit():
            return int(text)
        log = status.with_suffix(".log")
        last = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        if pid is not None and not _alive(pid) and not status.exists():
            raise TimeoutError(f"the real-stack build (pid {pid}) ended without writing {status}; last log line: "
                               f"{last[0] if last else '(none)'}; run `python3 scripts/real-stack/build.py forge "
                               "cluster serving` to see it fail")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the real-stack build wrote no status to {status} within {limit_s / 60:.0f} min; "
                               f"last log line: {last[0] if last else '(none)'}; its log is {log}")
        time.sleep(poll_s)


def pytest_configure(config: pytest.Config) -> None:
    _state.update(status=os.environ.get(STATUS_VAR, ""), pid=os.environ.get(PID_VAR, ""), waited="")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _state.get("status"):
        items[:] = beside_build_first(items)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Outermost, so the wait is not counted in the test's own timeout (pytest-timeout wraps inside)."""
    if _state.get("status") and not _state.get("waited") and needs_real_stack(item):
        _state["waited"] = "yes"
        _await(item.config, Path(_state["status"]), _state.get("pid", ""))
    yield


def _await(config: pytest.Config, status: Path, pid: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    write = (lambda line: reporter.write_line(line)) if reporter else print
    write("")
    write(f"waiting for the real-stack build (scripts/real-stack/build.py; log {status.with_suffix('.log')}) ...")
    started = time.monotonic()
    try:
        code = wait_for_build(status, int(pid) if pid.isdigit() else None)
    except TimeoutError as exc:
        pytest.exit(str(exc), returncode=1)
    log = status.with_suffix(".log")
    for line in (log.read_text(errors="replace").splitlines() if log.exists() else []):
        write(line)
    write(f"the real-stack build ended with status {code} after {time.monotonic() - started:.0f} s of waiting")
    if code != 0:
        pytest.exit(f"scripts/real-stack/build.py failed (status {code}); its output is above and in {log}",
                    returncode=1)
