"""Data is never read as Rich markup: names, values, patterns, file names and passwords print as typed.

Before the fix, `name: "[/bold]"` raised MarkupError (a traceback), a bad name's error showed its pattern
with `[a-z]` eaten, `lint` dropped `[red]` from file names and `creds` hid a `[b]` in a password.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lint"


def gl(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {}), "NO_COLOR": "1"})


def test_closing_tag_as_a_name_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text('name: "[/bold]"\n')
    proc = gl("config", "validate", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "MarkupError" not in proc.stderr
    assert "name: " in proc.stderr and "'[/bold]'" in proc.stderr


def test_bad_name_error_shows_the_whole_pattern(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text('name: "Bad[red]"\n')
    proc = gl("config", "validate", cwd=tmp_path)
    assert proc.returncode == 2
    assert "^[a-z][a-z0-9-]{0,30}[a-z0-9]$" in proc.stderr
    assert "'Bad[red]'" in proc.stderr


def test_lint_keeps_brackets_in_file_names(tmp_path: Path, contracts_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "repo"
    shutil.copytree(FIXTURES / "GL303-image-unpinned", tree)
    (tree / "workload" / "deployment.yaml").rename(tree / "workload" / "[red]deployment.yaml")
    code = main(["lint", str(tree), "--schemas", str(contracts_dir)])
    out = capsys.readouterr().out
    assert code == 1
    assert "[red]deployment.yaml" in out.replace("\n", "").replace("│", "").replace(" ", "")


def test_creds_prints_a_password_with_brackets_as_typed(tmp_path: Path) -> None:
    from gitopslab.commands.creds import ENTRIES
    from gitopslab.state import LabState

    state = LabState("markuplab", tmp_path)
    state.secrets()
    key = ENTRIES[0][2]
    state.put_secret(key, "p[b]ss[/b]w[red]rd")
    proc = gl("creds", "--name", "markuplab", cwd=tmp_path, env={"GITOPSLAB_STATE_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "p[b]ss[/b]w[red]rd" in proc.stdout
    assert json.loads(gl("--json", "creds", "--name", "markuplab", cwd=tmp_path,
                         env={"GITOPSLAB_STATE_DIR": str(tmp_path)}).stdout)["version"] == 1


def test_hosts_file_path_with_brackets_is_printed_whole(tmp_path: Path) -> None:
    hosts = tmp_path / "[bold]hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    proc = gl("hosts", "--apply", "--name", "markuplab", cwd=tmp_path, env={"GITOPSLAB_HOSTS_FILE": str(hosts)})
    assert proc.returncode == 0, proc.stderr
    assert f"{hosts}: block written" in proc.stdout


def test_argocd_table_shows_hostile_app_data_as_typed() -> None:
    from rich.console import Console

    from gitopslab.clients.argocd import AppStatus
    from gitopslab.commands.progress import apps_table
    from gitopslab.stack.events import AppsSnapshot

    app = AppStatus("[/bold]app", "[red]OutOfSync", "Degraded", ("ComparisonError: [/] bad [b]x",))
    out = Console(width=200, record=True, no_color=True)
    out.print(apps_table(AppsSnapshot([app])))
    text = out.export_text()
    assert "[/bold]app" in text and "[red]OutOfSync" in text and "ComparisonError: [/] bad [b]x" in text
