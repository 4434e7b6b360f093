"""Each broken fixture is flagged with exactly its rule (exit 1); the clean one passes (exit 0).
kubectl kustomize and the strict schemas run for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitopslab.cli import main
from gitopslab.lint.rules import RULES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lint"
BROKEN = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name != "clean")


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["lint", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_every_content_rule_has_a_broken_fixture() -> None:
    covered = {p.name.split("-", 1)[0] for p in BROKEN}
    content_rules = {r for r, rule in RULES.items() if rule.severity == "error"}
    assert covered == content_rules | {"GL204"}  # GL204: a recommendation (warning) with a fixture of its own


@pytest.mark.parametrize("fixture", BROKEN, ids=lambda p: p.name)
def test_broken_fixture_names_exactly_its_rule(fixture: Path, schemas_dir: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    rule = fixture.name.split("-", 1)[0]
    code, doc = run_json(capsys, str(fixture), "--schemas", str(schemas_dir))
    assert code == (1 if RULES[rule].severity == "error" else 0)
    assert {f["rule"] for f in doc["data"]["findings"]} == {rule}
    for f in doc["data"]["findings"]:
        assert f["name"] == RULES[rule].name and f["fix"] == RULES[rule].fix
        assert (fixture / f["file"]).exists()


def test_clean_fixture_passes(schemas_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, str(FIXTURES / "clean"), "--schemas", str(schemas_dir))
    assert code == 0
    assert doc["data"]["findings"] == [] and doc["data"]["ok"] is True
    assert doc["data"]["summary"]["objects"] == 3


def test_table_output_names_rule_file_and_fix(schemas_dir: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    code = main(["lint", str(FIXTURES / "GL201-team-namespace-scope"), "--schemas", str(schemas_dir)])
    out = capsys.readouterr().out
    assert code == 1
    assert "GL201" in out and "team-namespace-scope" in out and "project.yaml" in out
    assert "1 error(s)" in out


def test_single_yaml_file_is_linted(schemas_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, str(FIXTURES / "GL205-role-scope" / "project.yaml"), "--schemas", str(schemas_dir))
    assert code == 1
    assert [f["rule"] for f in doc["data"]["findings"]] == ["GL205"]
