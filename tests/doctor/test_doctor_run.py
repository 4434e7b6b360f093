"""The whole doctor: bounds, exit codes, the JSON shape, --only, and the cascade end to end."""

from __future__ import annotations

import json
import time

import pytest

from gitopslab import cli
from gitopslab.doctor import GROUPS, run_doctor
from tests.fakes.doctor_standins import StandInLab

JSON_KEYS = {"lab", "verdict", "exit_code", "seconds", "groups", "summary", "checks"}
CHECK_KEYS = {"group", "name", "status", "detail", "fix", "seconds"}


def test_nothing_running_finishes_in_two_seconds_with_json(capsys, unique_name):
    code = cli.main(["doctor", "--name", unique_name, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["data"]["seconds"] <= 2.0, doc["data"]["seconds"]  # the run itself, imports aside
    assert code == 1
    assert doc["schema"] == "gitopslab/doctor" and doc["version"] == 1
    data = doc["data"]
    assert set(data) == JSON_KEYS and data["lab"] == unique_name and data["verdict"] == "fail"
    assert data["groups"] == list(GROUPS)
    assert all(set(c) == CHECK_KEYS for c in data["checks"])
    assert set(data["summary"]) == {"ok", "warn", "fail", "skip"}
    by = {f"{c['group']}/{c['name']}": c for c in data["checks"]}
    # the cluster's root cause is one red line; everything standing on it is skipped naming it
    assert by["Cluster/api"]["status"] == "fail" and by["Cluster/api"]["fix"] == "gitopslab up"
    assert by["GitOps/argocd"]["detail"] == "skipped: Cluster/api failed"
    assert by["Apps/hello-api-predict"]["detail"] == "skipped: Cluster/api failed"
    assert not [c for c in data["checks"] if c["group"] in ("Cluster", "GitOps", "Apps")
                and c["status"] == "fail" and c["name"] != "api"]


def test_table_output_has_groups_fixes_and_a_verdict(capsys, unique_name, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    code = cli.main(["doctor", "--name", unique_name, "--only", "cluster"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Cluster" in out and "✗" in out and "fix: gitopslab up" in out
    assert out.strip().splitlines()[-1].startswith("✗ 1 problem to fix")
    assert "Compose" not in out


@pytest.mark.parametrize("argv", [["doctor", "--only", "nope"], ["doctor", "--timeout", "0"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_bad_configuration_exits_2(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "gitopslab.yaml"
    bad.write_text("ports: {gitea: 70000}\n")
    assert cli.main(["doctor", "--config", str(bad)]) == 2
    assert "ports.gitea" in capsys.readouterr().err


def test_stand_in_cluster_healthy_then_one_black_hole_is_bounded(tmp_path, unique_name):
    lab = StandInLab(unique_name, tmp_path / "state")
    try:
        t0 = time.monotonic()
        report = run_doctor(lab.context(), only=["Cluster", "GitOps", "Apps"], timeout=2.0)
        healthy = time.monotonic() - t0  # this machine's pace now: a loaded machine is slow in both runs
        assert report.exit_code == 0, [r for r in report.results if r.status == "fail"]
        assert {r.status for r in report.results} <= {"ok", "skip"}  # gpu skipped: profile off
    finally:
        lab.close()
    lab = StandInLab(f"{unique_name}b", tmp_path / "state2", black_hole="hello_api")
    try:
        t0 = time.monotonic()
        report = run_doctor(lab.context(), only=["Cluster", "GitOps", "Apps"], timeout=2.0)
        took = time.monotonic() - t0
        # The black hole costs its own 2 s timeout once, on top of the healthy run's pace; the slack
        # (one timeout more) is for a loaded machine, where both runs slow down (issue 23 item 17).
        assert took <= healthy + 2.0 * 2, (took, healthy)
        lines = {f"{r.group}/{r.name}": r for r in report.results}
        # "hung" whether the check's own timeout or the runner's abandonment ended it (load decides)
        assert lines["Apps/hello-api"].status == "fail" and "hung" in lines["Apps/hello-api"].detail
        assert lines["Apps/hello-api-predict"].detail == "skipped: Apps/hello-api failed"
        assert report.count("fail") == 1
    finally:
        lab.close()
