"""A check's command never raises: Probe.run turns a missing program, a timeout and a program that
cannot run into exit statuses with a line to print (it goes through drivers.proc like every command)."""

from __future__ import annotations

from pathlib import Path


def test_a_command_answers_with_its_status_and_output_and_an_empty_stdin(make_probe):
    cmd = make_probe().run(["sh", "-c", "cat; echo out; echo err >&2; exit 3"])
    assert (cmd.rc, cmd.out, cmd.err) == (3, "out\n", "err\n")


def test_a_missing_program_is_127(make_probe):
    cmd = make_probe().run(["no-such-gitopslab-tool", "version"])
    assert cmd.rc == 127 and cmd.last_error == "no-such-gitopslab-tool: not found on PATH"


def test_a_hung_program_is_124_with_the_command_named(make_probe):
    cmd = make_probe(timeout=0.3).run(["sh", "-c", "sleep 5", "not-shown"])
    assert cmd.rc == 124 and cmd.last_error == "`sh -c sleep 5` did not answer within 0 s"


def test_a_program_that_cannot_run_is_126(make_probe, tmp_path: Path):
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n")
    cmd = make_probe().run([str(script)])
    assert cmd.rc == 126 and cmd.last_error == f"{script}: Permission denied"
    cmd = make_probe().run([str(tmp_path / "gone")])
    assert cmd.rc == 126 and cmd.last_error == f"{tmp_path / 'gone'}: No such file or directory"
