"""The runner: the skip cascade names the root cause, soft prerequisites overlap, hung checks are
abandoned at their timeout, a crashing check is one red line, and the run is concurrent."""

from __future__ import annotations

import threading
import time

from gitopslab.doctor.result import fail, ok, warn
from gitopslab.doctor.runner import Check, run_checks, with_prerequisites


def _by_name(results):
    return {f"{r.group}/{r.name}": r for r in results}


def test_gate_cascade_skips_with_the_root_cause_and_never_runs_dependents():
    ran = []

    def root(p):
        return fail("Host", "engine", "no engine answers", "start docker")

    def middle(p):
        ran.append("middle")
        return ok("Compose", "project", "fine")

    def leaf(p):
        ran.append("leaf")
        return ok("Compose", "gitea", "fine")

    checks = [Check("Host", "engine", root), Check("Compose", "project", middle, needs=("Host/engine",)),
              Check("Compose", "gitea", leaf, needs=("Compose/project",))]
    got = _by_name(run_checks(checks, None, 1.0))
    assert got["Host/engine"].status == "fail" and got["Host/engine"].fix == "start docker"
    assert got["Compose/project"].status == "skip"
    assert got["Compose/gitea"].detail == "skipped: Host/engine failed"  # the root, not the check in between
    assert ran == []
    assert sum(r.status == "fail" for r in got.values()) == 1  # one root cause, one red line


def test_warn_prerequisite_lets_dependents_run():
    checks = [Check("A", "w", lambda p: warn("A", "w", "meh")),
              Check("A", "x", lambda p: ok("A", "x", "ran"), needs=("A/w",))]
    assert _by_name(run_checks(checks, None, 1.0))["A/x"].status == "ok"


def test_soft_prerequisite_runs_concurrently_and_turns_its_failure_into_a_skip():
    started = threading.Event()

    def service(p):
        time.sleep(0.3)
        return fail("Apps", "svc", "refused")

    def link(p):
        started.set()
        return [fail("Links", "host:a", "unreachable"), fail("Links", "host:b", "unreachable"),
                ok("Links", "host:c", "fine")]

    checks = [Check("Apps", "svc", service),
              Check("Links", "host", link, soft_map={"host:a": "Apps/svc", "host:b": "Apps/other"})]
    t0 = time.monotonic()
    got = _by_name(run_checks(checks, None, 1.0))
    assert time.monotonic() - t0 < 0.6 and started.is_set()
    assert got["Links/host:a"].status == "skip" and "Apps/svc failed" in got["Links/host:a"].detail
    assert got["Links/host:b"].status == "fail"      # its service is not in this run: stays red
    assert got["Links/host:c"].status == "ok"


def test_a_hung_check_is_abandoned_at_its_timeout_and_others_finish():
    def hung(p):
        time.sleep(30)

    checks = [Check("Apps", "hung", hung), Check("Apps", "quick", lambda p: ok("Apps", "quick", "fine")),
              Check("Apps", "after", lambda p: ok("Apps", "after", "x"), needs=("Apps/hung",))]
    t0 = time.monotonic()
    got = _by_name(run_checks(checks, None, 0.5))
    took = time.monotonic() - t0
    assert took < 0.5 + 1.0
    assert got["Apps/hung"].status == "fail" and "no answer within" in got["Apps/hung"].detail
    assert "hung" in got["Apps/hung"].detail  # the word a check's own HTTP timeout uses (issue 23 item 17)
    assert got["Apps/quick"].status == "ok"
    assert got["Apps/after"].detail == "skipped: Apps/hung failed"


def test_a_crashing_check_is_a_red_line_not_a_traceback():
    def boom(p):
        raise KeyError("items")

    (res,) = run_checks([Check("Cluster", "nodes", boom)], None, 1.0)
    assert res.status == "fail" and "KeyError" in res.detail and res.fix


def test_checks_run_concurrently():
    def slow(name):
        return lambda p: (time.sleep(0.4), ok("G", name, "done"))[1]

    checks = [Check("G", f"c{i}", slow(f"c{i}")) for i in range(8)]
    t0 = time.monotonic()
    results = run_checks(checks, None, 2.0)
    assert time.monotonic() - t0 < 1.2
    assert [r.name for r in results] == [f"c{i}" for i in range(8)]  # declaration order kept
    assert all(r.seconds >= 0.35 for r in results)


def test_only_pulls_in_prerequisites_transitively():
    checks = [Check("Host", "engine", lambda p: None), Check("Compose", "project", lambda p: None, needs=("Host/engine",)),
              Check("Pipeline", "x", lambda p: None, needs=("Compose/project",)), Check("Apps", "y", lambda p: None)]
    assert [c.id for c in with_prerequisites(checks, {"Pipeline"})] == ["Host/engine", "Compose/project", "Pipeline/x"]


def test_a_check_returning_no_result_is_a_red_line():
    got = _by_name(run_checks([Check("Apps", "silent", lambda p: None)], None, 1.0))
    assert got["Apps/silent"].status == "fail" and "not check results" in got["Apps/silent"].detail
