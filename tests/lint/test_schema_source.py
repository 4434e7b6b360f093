"""Issue 11 item 14: outside the development checkout no CRD schemas are found; lint says plainly what
it did and did not check, and the command it gives (export the schema from the CRD) is one that works:
the exported schema of the real upstream CRD validates. GL204 is a recommendation: a warning."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from gitopslab.cli import main
from gitopslab.lint import lint
from gitopslab.lint.rules import RULES
from gitopslab.lint.schemas import CRD_NAMES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lint"


@pytest.fixture
def installed_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As an installed gitopslab: no env sources, no ../shared/contracts beside the package."""
    monkeypatch.delenv("GITOPSLAB_SCHEMAS", raising=False)
    monkeypatch.delenv("GITOPSLAB_CONTRACTS", raising=False)
    import gitopslab.lint.schemas as schemas

    real = schemas.find_schema_dir
    monkeypatch.setattr(schemas, "find_schema_dir",
                        lambda explicit=None: real(explicit) if explicit else None)


def _export(contracts_dir: Path, crd_name: str, out: Path) -> None:
    """What `kubectl get crd NAME -o jsonpath='{.spec.versions[0].schema.openAPIV3Schema}'` prints,
    taken from the upstream CRD manifest."""
    for path in (contracts_dir / "crds").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") == "CustomResourceDefinition" and doc["metadata"]["name"] == crd_name:
                out.write_text(json.dumps(doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]))
                return
    raise AssertionError(f"{crd_name} not in {contracts_dir / 'crds'}")


def test_without_schemas_the_warning_says_what_was_checked_and_a_working_command(
        installed_elsewhere: None, contracts_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = lint(FIXTURES / "clean")
    gl005 = [f for f in report.findings if f.rule == "GL005"]
    assert report.exit_code == 0 and {f.object.split("/")[0] for f in gl005} == {"Application", "AppProject"}
    for f in gl005:
        assert "checked by the tenancy rules but NOT against a schema" in f.message
        assert "gitopslab does not ship CRD schemas" in f.message
    # Follow the fix as written: the file names and CRD names in the kubectl lines, then --schemas.
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    monkeypatch.chdir(tmp_path)
    for f in gl005:
        line = re.search(r"(kubectl get crd .*? > schemas/\S+)", f.message).group(1)
        argv = shlex.split(line)
        crd, target = argv[3], argv[-1]
        assert CRD_NAMES[Path(target).name] == crd
        _export(contracts_dir, crd, tmp_path / target)
    followed = lint(FIXTURES / "clean", schemas=str(schemas))
    assert followed.findings == [] and followed.exit_code == 0
    # ... and the exported schema still catches a misspelt field in an Application.
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "app.yaml").write_text((FIXTURES / "clean" / "app.yaml").read_text().replace("targetRevision:",
                                                                                          "targetRevison:"))
    found = lint(bad / "app.yaml", schemas=str(schemas))
    assert [(f.rule, f.object) for f in found.findings if f.rule == "GL003"] == [("GL003", "Application/argocd/ml-dev")]


def test_orphaned_resources_is_a_warning_and_the_project_lints_clean(schemas_dir: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert RULES["GL204"].severity == "warning"
    code = main(["lint", str(FIXTURES / "GL204-orphaned-resources"), "--schemas", str(schemas_dir), "--json"])
    data = json.loads(capsys.readouterr().out)["data"]
    assert code == 0 and data["ok"] is True
    assert [(f["rule"], f["severity"]) for f in data["findings"]] == [("GL204", "warning")]
