"""`gitopslab logs` shows a workload's control sequences as text (issue 23 item 14): a log line that
clears the screen, draws an OSC 8 link or writes the clipboard (OSC 52) reaches stdout as visible
`\\x1b...`, printed and followed alike. Before the fix kubectl's bytes went to stdout untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands import test_logs

HOSTILE = ("[pod/hello-api-7c9/hello-api] ok\x1b[2J\x1b[H \x1b]8;;https://evil.example/\x1b\\docs\x1b]8;;\x1b\\"
           " \x1b]52;c;ZWNobyBwd25lZA==\x07 done\n")
SHOWN = ("[pod/hello-api-7c9/hello-api] ok\\x1b[2J\\x1b[H \\x1b]8;;https://evil.example/\\x1b\\docs\\x1b]8;;\\x1b\\"
         " \\x1b]52;c;ZWNobyBwd25lZA==\\x07 done\n")


@pytest.mark.parametrize("follow", [[], ["-f"]], ids=["printed", "followed"])
def test_a_workloads_control_sequences_reach_stdout_as_text(tmp_path: Path, follow: list[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = tmp_path / "state" / "logslab" / "kubeconfig"
    kubeconfig.parent.mkdir(parents=True)
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    (tmp_path / "state" / "logslab" / "secrets.json").write_text("{}")
    monkeypatch.setattr(test_logs, "RECORDED", HOSTILE)  # what the recorded kubectl answers `logs` with
    proc = test_logs._gl(tmp_path, "hello-api", *follow)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert proc.stdout == SHOWN
