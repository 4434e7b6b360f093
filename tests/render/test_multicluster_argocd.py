"""Issue 25, Argo CD side: the production cluster grants Argo CD namespaced rights in the prd namespaces
only (no cluster-admin, no cluster-scoped rule); the cluster Secret registers it by name `prd` in namespaced
mode; and the GitOps tree of a two-cluster lab (every swap matching the shipped text) sends prd's projects,
apps and guardrails there, keeps dev on the first cluster, and passes `gitopslab lint` as it is pushed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from gitopslab.lint import lint, shipped_gitops_dir
from gitopslab.lint.apps import applications
from gitopslab.lint.loader import load
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render import gitops_tree, multicluster
from gitopslab.render.multicluster import (
    MANAGED_NAMESPACES,
    PRD_CLUSTER,
    cluster_secret,
    prd_access,
    tree_swaps,
)

TWO = build(LabConfig(multicluster=True))


def test_argocd_gets_the_prd_namespaces_and_nothing_cluster_wide() -> None:
    objs = prd_access(TWO)
    kinds = [(o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")) for o in objs]
    assert ("Namespace", "app-prd", None) in kinds and ("Namespace", "ml-prd", None) in kinds
    assert ("ServiceAccount", "argocd-manager", "kube-system") in kinds
    token = next(o for o in objs if o["kind"] == "Secret")
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "argocd-manager"}
    assert not [o for o in objs if o["kind"] == "ClusterRoleBinding"]  # nothing bound cluster-wide
    bindings = [o for o in objs if o["kind"] == "RoleBinding"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == sorted(MANAGED_NAMESPACES)
    for b in bindings:
        assert b["roleRef"]["name"] != "cluster-admin"
        assert b["subjects"] == [{"kind": "ServiceAccount", "name": "argocd-manager", "namespace": "kube-system"}]
    assert all(o["metadata"]["labels"] == {"io.gitopslab.lab": "gitopslab"} for o in objs)


def test_the_cluster_secret_names_prd_in_namespaced_mode() -> None:
    secret = cluster_secret(TWO, token="tok", ca_data="Q0E=")
    assert secret["metadata"]["namespace"] == "argocd"
    assert secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
    data = secret["stringData"]
    assert data["name"] == PRD_CLUSTER and data["server"] == "https://kube-prd.localhost:6551"
    assert data["namespaces"] == "app-prd,ml-prd" and data["clusterResources"] == "false"
    assert json.loads(data["config"]) == {"bearerToken": "tok", "tlsClientConfig": {"insecure": False, "caData": "Q0E="}}
    placeholder = json.loads(cluster_secret(TWO)["stringData"]["config"])
    assert placeholder["bearerToken"] == "<secret:prd_cluster_token>"
    with pytest.raises(ValueError, match="multicluster profile is off"):
        cluster_secret(build(LabConfig()))


def _two_cluster_tree(tmp_path: Path) -> Path:
    """The shipped tree as `up` pushes it for a two-cluster lab (stack/delivery.localize_tree's order)."""
    tree = tmp_path / "gitops"
    shutil.copytree(shipped_gitops_dir(), tree)
    per_file = tree_swaps(TWO)
    for rel, swaps in per_file.items():
        text = (tree / rel).read_text()
        for old, _ in swaps:
            assert text.count(old) == 1, f"{rel}: the shipped text changed; tree_swaps no longer matches {old!r}"
    for path in tree.rglob("*.y*ml"):
        text = path.read_text()
        path.write_text(gitops_tree.localize(text, per_file.get(path.relative_to(tree).as_posix(), [])))
    return tree


def test_prd_goes_to_the_prd_cluster_and_dev_stays(tmp_path: Path) -> None:
    tree = load(_two_cluster_tree(tmp_path))
    apps = {a.name: a.destination for a in applications(tree)}
    for env in ("app-prd", "ml-prd"):
        assert apps[env] == {"server": "", "name": PRD_CLUSTER, "namespace": env}
        assert apps[f"guardrails-{env}"] == {"server": "", "name": PRD_CLUSTER, "namespace": env}
    for env in ("app-dev", "ml-dev"):
        assert apps[env]["server"] == "https://kubernetes.default.svc"
        assert apps[f"guardrails-{env}"]["name"] == "in-cluster"
    projects = {o.name: o.data["spec"]["destinations"] for o in tree.objects if o.kind == "AppProject"}
    assert projects["app-prd"] == [{"name": PRD_CLUSTER, "namespace": "app-prd"}]
    assert projects["ml-prd"] == [{"name": PRD_CLUSTER, "namespace": "ml-prd"}]
    service = next(o for o in tree.builds["clusters/app-prd"] if o.kind == "Service" and o.name == "hello-api")
    assert service.data["spec"]["type"] == "NodePort" and service.data["spec"]["ports"][0]["nodePort"] == 30888


def _profile_of(tree_dir: Path) -> dict[str, str]:
    """Application ref -> its profile label (no label: core)."""
    out = {}
    for app in applications(load(tree_dir)):
        labels = (app.origin.data.get("metadata") or {}).get("labels") or {}
        if app.origin.kind == "ApplicationSet":
            labels = ((app.origin.data.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
        out[app.ref] = str(labels.get("gitopslab.io/profile") or "core")
    return out


def test_the_two_cluster_tree_passes_lint_as_the_shipped_one_does(tmp_path: Path, contracts_dir: Path) -> None:
    """The profiles multicluster is made for (core and its own); another profile's prd apps (e.g. kserve's,
    which would need KServe on the prd cluster too) are not combined with it yet, and GL108 says so."""
    tree_dir = _two_cluster_tree(tmp_path)
    shipped = lint(shipped_gitops_dir(), schemas=str(contracts_dir))
    two = lint(tree_dir, schemas=str(contracts_dir))
    ours = _profile_of(tree_dir)
    mine = [f for f in two.errors if ours.get(f.object, "core") in ("core", "multicluster")]
    assert not [f for f in mine if f.rule in ("GL108", "GL103")]
    assert sorted((f.rule, f.object) for f in mine) == sorted(
        (f.rule, f.object) for f in shipped.errors if ours.get(f.object, "core") in ("core", "multicluster"))


def test_one_cluster_lab_changes_nothing() -> None:
    assert tree_swaps(build(LabConfig())) == {}


def test_render_writes_both_for_a_two_cluster_lab() -> None:
    from gitopslab import render

    files = render.artifacts(LabConfig(multicluster=True), TWO)
    access = list(yaml.safe_load_all(files["prd/argocd-access.yaml"]))
    assert access == prd_access(TWO)
    assert yaml.safe_load(files["argocd/cluster-prd-secret.yaml"]) == multicluster.cluster_secret(TWO)
