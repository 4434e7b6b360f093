"""`gitopslab kubeconfig`: prints the export line for the kubeconfig kept in the state dir; `--merge`
asks k3d (a test executable on PATH recording its arguments) to merge into ~/.kube/config."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab import cli
from gitopslab.commands.kubeconfig import export_line
from gitopslab.state import LabState


def _state_with_kubeconfig(name: str = "gitopslab") -> Path:
    state = LabState(name)
    state.dir.mkdir(parents=True)
    state.kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    return state.kubeconfig


def test_prints_the_export_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = _state_with_kubeconfig()
    assert cli.main(["kubeconfig"]) == 0
    assert capsys.readouterr().out == f"export KUBECONFIG={path}\n"


def test_other_lab_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    path = _state_with_kubeconfig("ws2")
    assert cli.main(["kubeconfig", "--name", "ws2"]) == 0
    assert capsys.readouterr().out.strip() == f"export KUBECONFIG={path}"


def test_without_a_lab_it_says_what_to_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["kubeconfig"]) == 1
    err = capsys.readouterr().err
    assert "has no kubeconfig yet" in err and "gitopslab up" in err


def test_powershell_line() -> None:
    assert export_line(r"C:\state\kubeconfig", "win32") == r"$env:KUBECONFIG = 'C:\state\kubeconfig'"


def test_powershell_line_expands_nothing() -> None:
    # Double quotes let PowerShell run $(...) inside; single quotes with '' for a quote run nothing.
    assert export_line("C:\\a$(calc)'b\\kubeconfig", "win32") == "$env:KUBECONFIG = 'C:\\a$(calc)''b\\kubeconfig'"


@pytest.mark.skipif(sys.platform == "win32", reason="evaluated by a POSIX shell")
def test_eval_of_the_line_runs_nothing_hidden_in_the_state_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 23 item 15: `eval "$(gitopslab kubeconfig)"` ran a command hidden in the state dir's name.
    root = tmp_path / "s$(touch PWNED1);touch PWNED2;'q`touch PWNED3`"
    monkeypatch.setenv("GITOPSLAB_STATE_DIR", str(root))
    path = _state_with_kubeconfig()
    assert cli.main(["kubeconfig"]) == 0
    line = capsys.readouterr().out
    proc = subprocess.run(["sh", "-c", 'eval "$LINE" && printf %s "$KUBECONFIG"'], cwd=tmp_path,
                          env={"PATH": os.environ["PATH"], "LINE": line}, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == str(path)
    assert not list(tmp_path.glob("PWNED*"))


def _recording_k3d(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prints: str = "") -> Path:
    """A k3d first on PATH that answers its version and appends every other argv to the returned file
    (printing `prints`): what `kubeconfig --merge` asked of k3d."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "k3d-args"
    k3d = bindir / "k3d"
    k3d.write_text(f"""#!/bin/sh
if [ "$1" = "version" ]; then echo "k3d version v5.9.0"; echo "k3s version v1.35.5-k3s1 (default)"; exit 0; fi
echo "$@" >> "{record}"
{f'echo "{prints}"' if prints else ''}
""")
    k3d.chmod(k3d.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return record


def test_merge_asks_k3d_and_keeps_the_current_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _state_with_kubeconfig()
    record = _recording_k3d(tmp_path, monkeypatch, prints="/root/.kube/config")
    assert cli.main(["kubeconfig", "--merge"]) == 0
    assert record.read_text() == "kubeconfig merge gitopslab --kubeconfig-merge-default --kubeconfig-switch-context=false\n"
    assert "kubectl config use-context k3d-gitopslab" in capsys.readouterr().out


def test_multicluster_a_context_per_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 25: with the production cluster's kubeconfig beside the first, KUBECONFIG lists both (the
    first cluster's first: its context stays current) and --merge merges both contexts."""
    path = _state_with_kubeconfig()
    prd = path.parent / "kubeconfig-prd"
    prd.write_text("apiVersion: v1\nkind: Config\n")
    assert cli.main(["kubeconfig"]) == 0
    assert capsys.readouterr().out == f"export KUBECONFIG={path}:{prd}\n"
    assert export_line("C:\\s\\kubeconfig", "win32", "C:\\s\\kubeconfig-prd") == \
        "$env:KUBECONFIG = 'C:\\s\\kubeconfig;C:\\s\\kubeconfig-prd'"
    record = _recording_k3d(tmp_path, monkeypatch)
    assert cli.main(["kubeconfig", "--merge"]) == 0
    assert record.read_text().splitlines() == [
        "kubeconfig merge gitopslab --kubeconfig-merge-default --kubeconfig-switch-context=false",
        "kubeconfig merge gitopslab-prd --kubeconfig-merge-default --kubeconfig-switch-context=false"]
    out = capsys.readouterr().out
    assert "merged context k3d-gitopslab-prd into ~/.kube/config" in out
    assert cli.main(["kubeconfig", "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)["data"]
    assert data["contexts"] == ["k3d-gitopslab", "k3d-gitopslab-prd"] and data["paths"] == [str(path), str(prd)]
