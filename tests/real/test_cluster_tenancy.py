"""`gitopslab lint` and the real Argo CD agree on tenancy, case by case: every fault lint reports in a
team app is refused or failed by the real application controller too, and the clean tree passes both.

Each case is one Application (plus, for the cluster-scoped one, the manifest it deploys) committed under
`lint-cases/` of the served GitOps repo, linted together with the lab's AppProjects, then applied to Argo CD.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from gitopslab.lint import lint
from gitopslab.lint.policy import default_allowed_repos
from gitopslab.render.argocd import gitops_repo_url
from gitopslab.stack.cluster_layer import ClusterLayer
from tests.real.cluster_fixtures import ClusterLab, GitOps
from tests.real.cluster_harness import RealCluster

CLUSTER_ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "lint-case-cluster-scoped"}, "rules": []}


def case_app(cluster_lab: ClusterLab, name: str, *, project: str = "app-dev", namespace: str = "app-dev",
             repo: str | None = None, path: str = "clusters/app-dev") -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": {"project": project,
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
                     "source": {"repoURL": repo or gitops_repo_url(cluster_lab.ctx.topo), "targetRevision": "main",
                                "path": path},
                     "syncPolicy": {"automated": {}}}}


# name -> (the Application, the lint rule that reports it)
CASES: dict[str, tuple[Callable[[ClusterLab], dict[str, Any]], str]] = {
    "case-other-namespace": (lambda cluster_lab: case_app(cluster_lab, "case-other-namespace", namespace="ml-prd"), "GL103"),
    "case-foreign-repo": (lambda cluster_lab: case_app(
        cluster_lab, "case-foreign-repo", repo=gitops_repo_url(cluster_lab.ctx.topo).replace("/platform/", "/elsewhere/")), "GL104"),
    "case-cluster-scoped": (lambda cluster_lab: case_app(cluster_lab, "case-cluster-scoped", path="lint-cases/cluster-scoped"),
                            "GL107"),
    "case-default-project": (lambda cluster_lab: case_app(cluster_lab, "case-default-project", project="default"), "GL101"),
}


def write_cases(cluster_lab: ClusterLab, tree: Path) -> None:
    cases = tree / "lint-cases"
    shutil.rmtree(cases, ignore_errors=True)
    (cases / "cluster-scoped").mkdir(parents=True)
    (cases / "cluster-scoped" / "clusterrole.yaml").write_text(yaml.safe_dump(CLUSTER_ROLE))
    for name, (make, _rule) in CASES.items():
        (cases / f"{name}.yaml").write_text(yaml.safe_dump(make(cluster_lab)))


def refusal(cluster: RealCluster, name: str, timeout: float = 90) -> str:
    """What the real controller says about the case app: an InvalidSpecError or a failed sync, '' if it synced."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        last = json.loads(cluster.kubectl("get", "application", name, "-n", "argocd", "-o", "json").stdout)
        status = last.get("status") or {}
        for cond in status.get("conditions") or []:
            if cond.get("type") in ("InvalidSpecError", "SyncError"):
                return f"{cond['type']}: {cond.get('message', '')}"
        op = status.get("operationState") or {}
        if "not permitted" in op.get("message", ""):  # a refused sync is retried: its phase stays Running
            return f"sync {op.get('phase')}: {op['message']}"
        if op.get("phase") in ("Failed", "Error"):
            return f"sync {op['phase']}: {op.get('message', '')}"
        if op.get("phase") == "Succeeded" and (status.get("sync") or {}).get("status") == "Synced":
            return ""
        time.sleep(1)
    raise AssertionError(f"{name}: neither refused nor synced within {timeout:.0f} s; last status "
                         f"{json.dumps(last.get('status'))[:1500]}")


def test_lint_and_the_real_argocd_agree_on_each_tenancy_fault(argocd_up: ClusterLayer, cluster: RealCluster,
                                                                cluster_lab: ClusterLab, gitops: GitOps) -> None:
    write_cases(cluster_lab, gitops.tree)
    gitops.commit("lint cases: one tenancy fault per Application")
    allowed = default_allowed_repos(cluster_lab.ctx.cfg)
    findings = lint(gitops.tree, allowed_repos=allowed).findings
    try:
        verdicts = {}
        for name, (make, rule) in CASES.items():
            reported = [f.rule for f in findings if name in f.object or name in f.message or
                        (rule == "GL107" and "lint-case-cluster-scoped" in f.object)]
            cluster.kubectl("apply", "-f", "-", input=json.dumps(make(cluster_lab)))
            verdicts[name] = (rule in reported, refusal(cluster, name))
        disagree = {n: v for n, v in verdicts.items() if not (v[0] and v[1])}
        assert not disagree, f"lint found / Argo CD refused, per case: {disagree}"
    finally:
        for name in CASES:
            cluster.kubectl("delete", "application", name, "-n", "argocd", "--ignore-not-found", "--wait=false",
                            check=False)
        shutil.rmtree(gitops.tree / "lint-cases", ignore_errors=True)
        gitops.commit("lint cases removed")


def test_the_clean_tree_passes_lint(cluster_lab: ClusterLab, gitops: GitOps) -> None:
    """And (test_cluster_tier) every app of the same tree syncs in the real Argo CD."""
    report = lint(gitops.tree, allowed_repos=default_allowed_repos(cluster_lab.ctx.cfg))
    assert report.errors == [], [f"{f.rule} {f.object}: {f.message}" for f in report.errors]

