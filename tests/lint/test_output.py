"""The --json shape (gitopslab/lint version 1), warnings, and exit 2 on unreadable input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitopslab.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lint"


def test_json_envelope_shape_is_pinned(schemas_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["lint", str(FIXTURES / "GL303-image-unpinned"), "--schemas", str(schemas_dir), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert list(doc) == ["schema", "version", "data"]
    assert doc["schema"] == "gitopslab/lint" and doc["version"] == 1
    data = doc["data"]
    assert list(data) == ["path", "ok", "summary", "findings", "rules"]
    assert list(data["summary"]) == ["errors", "warnings", "objects", "kustomizations"]
    assert data["ok"] is False and data["summary"]["errors"] == 1
    finding = data["findings"][0]
    assert list(finding) == ["rule", "name", "severity", "file", "object", "message", "fix"]
    assert finding == {**finding, "rule": "GL303", "severity": "error", "file": "workload/deployment.yaml",
                       "object": "Deployment/ml-dev/web"}
    assert "nginx:latest" in finding["message"]
    assert {r["id"] for r in data["rules"]} >= {"GL001", "GL101", "GL201", "GL301"}


def test_missing_crd_schemas_warn_but_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "no-schemas"
    empty.mkdir()
    code = main(["lint", str(FIXTURES / "clean"), "--schemas", str(empty), "--json"])
    data = json.loads(capsys.readouterr().out)["data"]
    assert code == 0
    assert {f["rule"] for f in data["findings"]} == {"GL005"}
    # one warning per CRD kind, not per object
    assert sorted(f["object"].split("/")[0] for f in data["findings"]) == ["AppProject", "Application"]
    assert all(f["severity"] == "warning" for f in data["findings"])


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_unparsable_yaml_is_a_finding_naming_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # issue 23 item 6: a YAML syntax error is a finding of its file (exit 1, in the JSON), not a stop (exit 2)
    tree = tmp_path / "repo"
    shutil.copytree(FIXTURES / "clean", tree)
    (tree / "workload" / "broken.yaml").write_text("kind: [unclosed\n")
    assert main(["lint", str(tree), "--json"]) == 1
    findings = json.loads(capsys.readouterr().out)["data"]["findings"]
    syntax = [f for f in findings if f["rule"] == "GL007"]
    assert syntax == [{**syntax[0], "file": "workload/broken.yaml", "severity": "error", "name": "yaml-syntax"}]
    assert syntax[0]["message"].startswith("line 2, column 1: ")
    assert main(["lint", str(tree / "workload" / "broken.yaml")]) == 1  # a single file: the same finding
    assert "GL007" in capsys.readouterr().out


def test_schema_problem_in_a_crd_is_reported(tmp_path: Path, schemas_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "repo"
    shutil.copytree(FIXTURES / "clean", tree)
    app = tree / "app.yaml"
    app.write_text(app.read_text().replace("  project: ml-dev\n", "  project: ml-dev\n  projekt: typo\n"))
    code = main(["lint", str(tree), "--schemas", str(schemas_dir), "--json"])
    data = json.loads(capsys.readouterr().out)["data"]
    assert code == 1
    assert [(f["rule"], f["object"]) for f in data["findings"]] == [("GL003", "Application/argocd/ml-dev")]


def test_duplicate_key_is_a_finding_naming_file_key_and_lines(tmp_path: Path, schemas_dir: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # PyYAML keeps the last of two keys silently; go-yaml (Argo CD, kustomize) refuses the file.
    tree = tmp_path / "repo"
    shutil.copytree(FIXTURES / "clean", tree)
    deployment = tree / "workload" / "deployment.yaml"
    text = deployment.read_text()
    deployment.write_text(text.replace("metadata:\n", "metadata:\n  labels: {a: b}\n  labels: {c: d}\n", 1))
    code = main(["lint", str(tree), "--schemas", str(schemas_dir), "--json"])
    findings = json.loads(capsys.readouterr().out)["data"]["findings"]
    assert code == 1
    dup = [f for f in findings if f["rule"] == "GL006"]
    assert dup == [{**dup[0], "file": "workload/deployment.yaml", "object": "line 5", "severity": "error"}]
    assert "`labels`" in dup[0]["message"] and "first on line 4" in dup[0]["message"]
