"""`gitopslab doctor`'s Cluster and GitOps checks against the real control plane and Argo CD: green
when all runs, and the broken link named when one component is stopped; and the observability profile's
entry app accepted by the real Argo CD on a lab whose Gitea name and port are not the defaults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from gitopslab.context import Context
from gitopslab.doctor import cluster as cluster_checks
from gitopslab.doctor import gitops as gitops_checks
from gitopslab.doctor.probe import Probe
from gitopslab.doctor.runner import run_checks_by_id
from gitopslab.stack.argocd_layer import profile_steps
from gitopslab.stack.cluster_layer import ClusterLayer
from tests.real.cluster_fixtures import ClusterLab, GitOps, layer_for
from tests.real.cluster_harness import RealCluster


def doctor(cluster_lab: ClusterLab) -> dict[str, tuple[str, str]]:
    """check id -> (status, detail) of the Cluster and GitOps groups, as `gitopslab doctor` runs them."""
    ctx = cluster_lab.ctx
    probe = Probe(ctx.cfg, ctx.topo, ctx.state, timeout=10)
    by_id = run_checks_by_id(cluster_checks.checks() + gitops_checks.checks(), probe, check_timeout=15)
    out = {}
    for results in by_id.values():
        for r in results:
            out[f"{r.group}/{r.name}"] = (str(r.status), r.detail)
    return out


@pytest.fixture
def stopped(cluster: RealCluster) -> Iterator[list[str]]:
    """Components the test stops; started again afterwards for the tests that follow."""
    names: list[str] = []
    yield names
    for name in names:
        cluster.restart(name)
    if names:
        cluster.wait("argocd-server", lambda: cluster.http_ok(f"{cluster.argocd_url}/healthz"), "/healthz")


def test_doctor_cluster_and_gitops_checks_are_green(argocd_up: ClusterLayer, cluster_lab: ClusterLab) -> None:
    from gitopslab.stack import argocd_layer
    from gitopslab.stack.argocd_wait import wait_synced

    wait_synced(argocd_up, lambda: argocd_layer.client(argocd_up), cluster_lab.ctx.state.secret("argocd_admin_password"))
    seen = doctor(cluster_lab)
    bad = {k: v for k, v in seen.items() if v[0] not in ("ok", "skip")}
    assert not bad, bad
    assert seen["Cluster/api"][1].startswith("Kubernetes v1.35.5 answers")
    assert seen["GitOps/repo"][0] == "ok" and "localhost" in seen["GitOps/repo"][1]


def test_doctor_names_a_stopped_argocd_server(argocd_up: ClusterLayer, cluster: RealCluster,
                                              cluster_lab: ClusterLab, stopped: list[str]) -> None:
    cluster.stop("argocd-server")
    stopped.append("argocd-server")
    seen = doctor(cluster_lab)
    assert seen["Cluster/api"][0] == "ok"
    status, detail = seen["GitOps/argocd"]
    assert status == "fail" and str(cluster_lab.ctx.topo.service("argocd").port) in detail, seen["GitOps/argocd"]


def test_doctor_names_a_stopped_api_server(argocd_up: ClusterLayer, cluster: RealCluster, cluster_lab: ClusterLab,
                                           stopped: list[str]) -> None:
    cluster.stop("kube-apiserver")
    try:
        seen = doctor(cluster_lab)
    finally:
        cluster.restart("kube-apiserver")
        cluster.wait("kube-apiserver", lambda: cluster.http_ok(f"{cluster.api_url}/readyz", cluster.token), "/readyz")
    status, detail = seen["Cluster/api"]
    assert status == "fail" and "does not answer" in detail
    assert all(v[0] == "skip" for k, v in seen.items() if k in ("Cluster/nodes", "GitOps/apps")), seen


def test_observability_entry_app_is_accepted_with_a_non_default_gitea(argocd_up: ClusterLayer, cluster: RealCluster,
                                                                       cluster_lab: ClusterLab, gitops: GitOps) -> None:
    ctx = cluster_lab.ctx
    assert ctx.topo.service("gitea").address != "gitea.localhost:3000"  # the point of this lab
    cfg = ctx.cfg.model_copy(update={"observability": True})
    obs_ctx = Context(cfg=cfg, topo=ctx.topo, state=ctx.state)
    layer = layer_for(cluster_lab, cluster, gitops.tree, ctx=obs_ctx)
    (step,) = profile_steps(layer)
    try:
        step.apply(obs_ctx)
        deadline, conditions = time.monotonic() + 60, []
        while time.monotonic() < deadline:
            app = json.loads(cluster.kubectl("get", "application", "platform-observability", "-n", "argocd",
                                             "-o", "json").stdout)
            status = app.get("status") or {}
            conditions = [c for c in status.get("conditions") or [] if c.get("type") == "InvalidSpecError"]
            if conditions or (status.get("sync") or {}).get("status") in ("Synced", "OutOfSync"):
                break
            time.sleep(1)
    finally:
        # The profile's apps would otherwise stay OutOfSync (no chart can be pulled here) and fail
        # the tier's "every application Synced and Healthy" for the tests that follow.
        cluster.remove_applications("platform-observability", "kube-prometheus-stack", "alert-receiver",
                                    "hello-api-observability")
    assert not conditions, conditions
    assert app["spec"]["source"]["repoURL"].startswith(ctx.topo.service("gitea").url)
