"""Issue 25: lint checks destinations by cluster name. A prd project that names its own cluster (the
multicluster profile's `prd`) and an Application of it aimed at the dev cluster (in-cluster, by server or by
name) is GL108, once, not also GL103/GL107; aimed at `prd` it passes; and Argo CD's two spellings of the
dev cluster (name in-cluster, server https://kubernetes.default.svc) match each other."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from gitopslab.lint import lint

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lint" / "GL108-prd-on-dev-cluster"


def _tree(tmp_path: Path, destination: dict[str, str], project_dest: dict[str, str] | None = None) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURE, tree)
    app = yaml.safe_load((tree / "app.yaml").read_text())
    app["spec"]["destination"] = destination
    (tree / "app.yaml").write_text(yaml.safe_dump(app))
    if project_dest is not None:
        project = yaml.safe_load((tree / "project.yaml").read_text())
        project["spec"]["destinations"] = [project_dest]
        (tree / "project.yaml").write_text(yaml.safe_dump(project))
    return tree


@pytest.mark.parametrize("dev", [{"server": "https://kubernetes.default.svc"}, {"name": "in-cluster"}],
                         ids=["by-server", "by-name"])
def test_a_prd_app_on_the_dev_cluster_is_gl108_only(tmp_path: Path, schemas_dir: Path, dev: dict[str, str]) -> None:
    report = lint(_tree(tmp_path, {**dev, "namespace": "app-prd"}), schemas=str(schemas_dir))
    assert [(f.rule, f.object) for f in report.findings] == [("GL108", "Application/argocd/app-prd")]
    assert "project 'app-prd' deploys prd to cluster 'prd'" in report.findings[0].message
    assert report.exit_code == 1


def test_a_prd_app_on_the_prd_cluster_passes(tmp_path: Path, schemas_dir: Path) -> None:
    report = lint(_tree(tmp_path, {"name": "prd", "namespace": "app-prd"}), schemas=str(schemas_dir))
    assert report.findings == [] and report.exit_code == 0


def test_the_prd_cluster_still_keeps_a_team_in_its_namespaces(tmp_path: Path, schemas_dir: Path) -> None:
    report = lint(_tree(tmp_path, {"name": "prd", "namespace": "ml-prd"}), schemas=str(schemas_dir))
    assert "GL103" in report.rules()


def test_in_cluster_by_name_matches_a_project_giving_the_server(tmp_path: Path, schemas_dir: Path) -> None:
    """One cluster: a prd project on in-cluster (by server) and its app naming in-cluster is no finding."""
    report = lint(_tree(tmp_path, {"name": "in-cluster", "namespace": "app-prd"},
                        {"server": "https://kubernetes.default.svc", "namespace": "app-prd"}), schemas=str(schemas_dir))
    assert report.findings == [] and report.exit_code == 0
