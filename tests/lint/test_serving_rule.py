"""Issue 27 (seed 000): only the ML projects serve models as InferenceServices. GL206 flags an App project
that whitelists the kind and an App Application that deploys one, even where its project does not list the
kind (the serving rule, not only GL107's generic one); the ML team's InferenceService in the shipped tree passes."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from gitopslab.lint import lint

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lint" / "GL206-serving-outside-ml"


def test_an_app_application_deploying_an_inferenceservice_is_gl206_without_a_whitelist(
        tmp_path: Path, schemas_dir: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURE, tree)
    project = yaml.safe_load((tree / "project.yaml").read_text())
    project["spec"]["namespaceResourceWhitelist"] = [
        w for w in project["spec"]["namespaceResourceWhitelist"] if w["group"] != "serving.kserve.io"]
    (tree / "project.yaml").write_text(yaml.safe_dump(project))
    report = lint(tree, schemas=str(schemas_dir))
    assert [(f.rule, f.object) for f in report.findings] == [("GL206", "InferenceService/app-dev/iris")]
    assert report.exit_code == 1


def test_the_ml_project_may_whitelist_and_deploy_it(tmp_path: Path, schemas_dir: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURE, tree)
    for name in ("project.yaml", "app.yaml", "workload/inferenceservice.yaml"):
        path = tree / name
        path.write_text(path.read_text().replace("app-dev", "ml-dev").replace("gitopslab.io/team: app",
                                                                              "gitopslab.io/team: ml"))
    report = lint(tree, schemas=str(schemas_dir))
    assert report.findings == [] and report.exit_code == 0
