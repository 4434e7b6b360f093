"""Issue 27 follow-up: lint reads CRDs as upstream ships them (a CustomResourceDefinition YAML in the schema
folder or its crds/), so KServe's InferenceService is schema-checked from the CRD of the pinned v0.20.0
source archive (tests/support/schemas.py), not from a JSON file someone wrote into shared/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitopslab.cli import main
from gitopslab.lint import lint
from tests.conftest import REPO

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lint" / "GL206-serving-outside-ml"
CRD_NAME = "serving.kserve.io_inferenceservices.yaml"


def _ml_tree(tmp_path: Path, misspelt: bool = False) -> Path:
    """The GL206 fixture as the ML team's (a clean tree), optionally with storageUri misspelt."""
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURE, tree)
    for name in ("project.yaml", "app.yaml", "workload/inferenceservice.yaml"):
        path = tree / name
        text = path.read_text().replace("app-dev", "ml-dev").replace("gitopslab.io/team: app", "gitopslab.io/team: ml")
        path.write_text(text.replace("storageUri:", "storageUrl:") if misspelt else text)
    return tree


def test_an_inferenceservice_with_an_unknown_field_is_a_finding(tmp_path: Path, schemas_dir: Path) -> None:
    # No --schemas: the tests' GITOPSLAB_SCHEMAS (contracts + KServe's CRD) is where lint looks.
    assert lint(_ml_tree(tmp_path / "ok")).findings == []
    report = lint(_ml_tree(tmp_path / "bad", misspelt=True))
    assert [(f.rule, f.object) for f in report.findings] == [("GL003", "InferenceService/ml-dev/iris")]
    assert "storageUrl" in report.findings[0].message and report.exit_code == 1


def test_a_cli_run_as_a_subprocess_sees_the_same_schemas(tmp_path: Path, schemas_dir: Path) -> None:
    assert os.environ["GITOPSLAB_SCHEMAS"] == str(schemas_dir)
    done = subprocess.run([sys.executable, "-m", "gitopslab", "lint", str(_ml_tree(tmp_path, misspelt=True)),
                           "--json"], capture_output=True, text=True, cwd=REPO, timeout=300)
    findings = json.loads(done.stdout)["data"]["findings"]
    assert done.returncode == 1, done.stderr
    assert [(f["rule"], f["object"]) for f in findings] == [("GL003", "InferenceService/ml-dev/iris")]


def test_a_crd_manifest_at_the_top_of_the_folder_is_read(tmp_path: Path, schemas_dir: Path) -> None:
    only_crd = tmp_path / "schemas"
    only_crd.mkdir()
    shutil.copy(schemas_dir / "crds" / CRD_NAME, only_crd / CRD_NAME)
    isvc = _ml_tree(tmp_path, misspelt=True) / "workload" / "inferenceservice.yaml"
    report = lint(isvc, schemas=str(only_crd))
    assert [(f.rule, f.object) for f in report.findings] == [("GL003", "InferenceService/ml-dev/iris")]


def test_without_the_crd_the_warning_names_both_ways_to_get_the_schema(tmp_path: Path, contracts_dir: Path) -> None:
    # ../shared/contracts alone (as a fresh CI clone has it) holds no KServe schema: a GL005 warning.
    isvc = _ml_tree(tmp_path) / "workload" / "inferenceservice.yaml"
    [finding] = lint(isvc, schemas=str(contracts_dir)).findings
    assert finding.rule == "GL005"
    assert "inferenceservices.serving.kserve.io CRD manifest" in finding.message
    assert "kubectl get crd inferenceservices.serving.kserve.io" in finding.message
    assert "copy the CRD's manifest as upstream ships it into schemas/" in finding.message


def test_nullable_fields_of_a_crd_accept_null(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {"note": {"type": "string", "nullable": True}}}}}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "inferenceservices.serving.kserve.io"},
           "spec": {"group": "serving.kserve.io", "names": {"kind": "InferenceService"}, "scope": "Namespaced",
                    "versions": [{"name": "v1beta1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": schema}}]}}
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "isvc.yml").write_text(yaml.safe_dump(crd))
    obj = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
           "metadata": {"name": "m", "namespace": "ml-dev"}, "spec": {"note": None}}
    (tmp_path / "isvc.yaml").write_text(yaml.safe_dump(obj))
    assert lint(tmp_path / "isvc.yaml", schemas=str(tmp_path / "crds")).findings == []
    obj["spec"] = {"note": None, "other": 1}
    (tmp_path / "isvc.yaml").write_text(yaml.safe_dump(obj))
    assert lint(tmp_path / "isvc.yaml", schemas=str(tmp_path / "crds")).rules() == {"GL003"}


def test_a_schema_file_that_is_not_yaml_is_a_usage_error_naming_it(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "broken.yaml").write_text("spec: {group: serving.kserve.io, names: [\n")
    isvc = _ml_tree(tmp_path) / "workload" / "inferenceservice.yaml"
    assert main(["lint", str(isvc), "--schemas", str(schemas)]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml" in err and "cannot be read as YAML" in err


def test_a_kserve_archive_that_is_not_the_pin_is_refused_naming_both_sha256s(tmp_path: Path) -> None:
    # The schema source checks the archive with build.py's own check (scripts/real-stack/archives.py).
    from gitopslab.model.versions import SOURCE_ARCHIVES
    from tests.support.schemas import SchemaSourceError, kserve_crd

    pin = SOURCE_ARCHIVES["kserve"]
    (tmp_path / pin.file).write_bytes(b"not the release")
    with pytest.raises(SchemaSourceError) as caught:
        kserve_crd(tmp_path / "crds", upstream=tmp_path)
    message = str(caught.value)
    assert pin.sha256 in message and "SOURCE_ARCHIVES['kserve']" in message and str(tmp_path / pin.file) in message
    assert not (tmp_path / "crds").exists()
    (tmp_path / pin.file).unlink()
    with pytest.raises(SchemaSourceError, match="GITOPSLAB_UPSTREAM"):
        kserve_crd(tmp_path / "crds", upstream=tmp_path)
