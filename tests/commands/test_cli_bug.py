"""An exception that no step turned into a LabError is a bug of gitopslab's: the person gets two lines
(what stopped, and that it is a bug with how to report it) and exit 70, never a traceback or a
credential; -v shows the traceback, redacted; the command's log keeps it for `doctor --bundle`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitopslab import cli

LEAK = "could not parse 'password=hunter2-not-for-eyes' in the answer"


@pytest.fixture
def status_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    import gitopslab.commands.status as status

    def broken(args: object) -> int:
        raise RuntimeError(LEAK)

    monkeypatch.setattr(status, "run", broken)


def test_a_bug_is_two_lines_and_exit_70_without_traceback_or_credential(status_bug: None, capsys) -> None:
    assert cli.main(["status"]) == cli.BUG_EXIT == 70
    err = capsys.readouterr().err
    assert "error: gitopslab status stopped on an unexpected RuntimeError: could not parse" in err
    assert "fix: this is a bug in gitopslab, not in your set-up" in err and "gitopslab status -v" in err
    assert "Traceback" not in err
    assert "hunter2" not in err


def test_verbose_shows_the_traceback_redacted(status_bug: None, capsys) -> None:
    assert cli.main(["status", "-v"]) == 70
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "in broken" in err
    assert "hunter2" not in err


def test_json_says_the_bug_as_an_error_document(status_bug: None, capsys) -> None:
    assert cli.main(["status", "--json"]) == 70
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["error"]["kind"] == "RuntimeError" and doc["error"]["exit_code"] == 70
    assert "hunter2" not in doc["error"]["message"]


def test_the_up_log_keeps_the_bugs_traceback(monkeypatch: pytest.MonkeyPatch, unique_name: str, capsys) -> None:
    import gitopslab.conductor.up as conductor_up

    def broken_up(ctx, offer_tools, on_event, on_plan=lambda total: None):  # noqa: ANN001, ANN202
        raise KeyError("argocd_admin_password")

    monkeypatch.setattr(conductor_up, "up", broken_up)
    assert cli.main(["up", "--name", unique_name, "--no-doctor"]) == 70
    err = capsys.readouterr().err
    assert "stopped on an unexpected KeyError" in err and "Traceback" not in err
    log = Path(next(line.split("log: ", 1)[1] for line in err.splitlines() if line.startswith("log: ")))
    text = log.read_text()
    assert "gitopslab up ended by KeyError" in text and "Traceback (most recent call last)" in text
    assert "in broken_up" in text
