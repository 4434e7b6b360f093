"""Outside text never drives the terminal (issue 23 item 14): a clear-screen sequence or an OSC 8 link
in a doctor detail, an Argo CD application's name or condition, an error message, a repo's file name or
a log line reaches the terminal as visible `\\x1b...` text, while rich's own colours and the live
table's cursor moves still work. Each test asserts on the bytes written to stdout or stderr.

Before the fix every one of them wrote the raw ESC (rich passes control characters in text through)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab.terminal_text import clean

CLEAR = "\x1b[2J\x1b[H"                                    # clear the screen, cursor home
LINK = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"  # OSC 8: a link that hides its target
HOSTILE = f"bad{CLEAR}name{LINK}\x07\r\x9b31m\u202eend"
# What must show of it: rich itself drops BEL and CR from a Text (strip_control_codes) but keeps ESC,
# CSI (0x9b) and bidi overrides, which is why the consoles clean.
SHOWN = clean(f"bad{CLEAR}name{LINK}") + "\\x9b31m\\u202eend"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lint"


def _no_outside_sequence(written: str) -> None:
    """Nothing of HOSTILE's control characters is in what was written, and its escaped form is."""
    for raw in ("\x1b[2J", "\x1b[H", "\x1b]8", "\x07", "\r", "\x9b", "\u202e"):
        assert raw not in written, f"{raw!r} reached the terminal: {written!r}"


def test_clean_shows_every_control_character_and_keeps_text_newlines_and_tabs() -> None:
    assert clean(HOSTILE) == ("bad\\x1b[2J\\x1b[Hname\\x1b]8;;https://evil.example/\\x1b\\click me"
                              "\\x1b]8;;\\x1b\\\\x07\\x0d\\x9b31m\\u202eend")
    assert clean("plain ✓ text\n\twith tabs") == "plain ✓ text\n\twith tabs"
    assert clean(clean(HOSTILE)) == clean(HOSTILE)  # idempotent: cleaning twice changes nothing
    assert clean("\x00\x7f\x85\u2066") == "\\x00\\x7f\\x85\\u2066"


def _report(detail: str, fix: str):  # type: ignore[no-untyped-def]
    from gitopslab.doctor import Report
    from gitopslab.doctor.result import CheckResult

    return Report("lab", ("Apps",), (CheckResult("Apps", "hello-api", "fail", detail, fix, 0.1),), 0.1)


def test_a_doctor_detail_and_fix_print_their_sequences_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    from gitopslab.commands.doctor_report import print_table

    print_table(_report(f"answered {HOSTILE}", f"kubectl describe {HOSTILE}"))
    out = capsys.readouterr().out
    _no_outside_sequence(out)
    assert f"answered {SHOWN}" in out and f"kubectl describe {SHOWN}" in out


def test_on_a_colour_terminal_rich_colours_stay_and_outside_sequences_go(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from gitopslab.commands.doctor_report import print_table

    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    print_table(_report(HOSTILE, "run it again"))
    out = capsys.readouterr().out
    _no_outside_sequence(out)
    assert "\x1b[1;31m" in out  # the failed check's bold red icon: rich's own colour codes are kept
    assert SHOWN in out


def test_an_argocd_apps_name_and_condition_in_the_status_table(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from gitopslab.clients.argocd import AppStatus
    from gitopslab.commands.progress import StackReporter
    from gitopslab.stack.events import AppsSnapshot

    monkeypatch.setenv("FORCE_COLOR", "1")  # a terminal: the live table with its own cursor moves
    app = AppStatus(f"app{CLEAR}", "OutOfSync", "Degraded", (f"ComparisonError: {LINK}",))
    reporter = StackReporter()
    reporter(AppsSnapshot([app], now=1.0))
    reporter(AppsSnapshot([app], now=2.0, final=True))
    out = capsys.readouterr().out
    _no_outside_sequence(out)
    assert clean(f"app{CLEAR}") in out and clean(LINK)[:40] in out.replace("\n", "")
    assert "\x1b[?25l" in out  # the live view's own control (hide the cursor) still reaches the terminal


def test_an_error_message_and_its_fix_from_outside(capsys: pytest.CaptureFixture[str]) -> None:
    from gitopslab.cli import _report
    from gitopslab.errors import LabError

    _report(LabError(f"Gitea answered {HOSTILE}", hint=f"look at {LINK}"), verbose=False)
    err = capsys.readouterr().err
    _no_outside_sequence(err)
    assert f"Gitea answered {SHOWN}" in err and clean(LINK) in err


def test_a_warning_logged_with_outside_text_is_inert_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    from gitopslab import logsetup

    logsetup.configure(verbose=False)
    logging.getLogger("gitopslab.test").warning("the cluster said %s", HOSTILE)
    err = capsys.readouterr().err
    _no_outside_sequence(err)
    assert f"warning: the cluster said {clean(HOSTILE)}" in err


def test_lint_of_a_repo_whose_file_name_holds_sequences(tmp_path: Path, contracts_dir: Path) -> None:
    """End to end: the real process's stdout bytes, for a file name taken from a Git repo."""
    tree = tmp_path / "repo"
    shutil.copytree(FIXTURES / "GL303-image-unpinned", tree)
    hostile = f"x{CLEAR}\x1b]8;;evil:x\x07click\x1b]8;;\x07.yaml"  # no slash: a file name
    (tree / "workload" / "deployment.yaml").rename(tree / "workload" / hostile)
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "lint", str(tree), "--schemas", str(contracts_dir)],
                          capture_output=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout.decode("utf-8")
    _no_outside_sequence(out)
    assert b"\x1b" not in proc.stdout
    assert "\\x1b[2J" in out
