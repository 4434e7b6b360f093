"""The project's own cluster code against a real control plane (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler at the Kubernetes release the k3s pin runs) with kwok nodes, and
the real Argo CD built from its module, run out of cluster (tests/real/cluster_harness.py).

kwok nodes run no containers: pods turn Running/Ready by kwok's stages, so readiness probes and volumes
are not exercised here (docs/REAL_STACK.md says what covers them).
"""

from __future__ import annotations

import base64
import io
import json
import uuid

import pytest
import yaml
from rich.console import Console

from gitopslab.clients.argocd import ArgoCD
from gitopslab.context import Context
from gitopslab.errors import WaitTimeout
from gitopslab.model.versions import IMAGES
from gitopslab.render.argocd import gitops_repo_url
from gitopslab.stack import argocd_layer
from gitopslab.stack.argocd_wait import wait_synced
from gitopslab.stack.cluster_layer import ClusterLayer
from tests.real.cluster_fixtures import ClusterLab, GitOps, kubectl, layer_for
from tests.real.cluster_harness import GPU_LABEL, RealCluster

K8S_RELEASE = IMAGES["k3s"].rsplit(":", 1)[-1].split("-k3s")[0]  # v1.35.5-k3s1 -> v1.35.5


# --- the control plane -----------------------------------------------------------------------------
def test_the_api_server_reports_the_kubernetes_release_k3s_runs(cluster: RealCluster, cluster_lab: ClusterLab) -> None:
    version = json.loads(kubectl(cluster_lab).run("version", "-o", "json"))
    assert version["serverVersion"]["gitVersion"] == K8S_RELEASE


def test_kwok_nodes_are_ready_and_labelled_like_the_lab_node_plus_a_gpu_one(cluster: RealCluster,
                                                                            cluster_lab: ClusterLab) -> None:
    nodes = kubectl(cluster_lab).get_json("nodes")["items"]
    ready = {n["metadata"]["name"]: [c["status"] for c in n["status"]["conditions"] if c["type"] == "Ready"]
             for n in nodes}
    assert all(status == ["True"] for status in ready.values()), ready
    gpu = [n for n in nodes if n["metadata"]["labels"].get(GPU_LABEL[0]) == GPU_LABEL[1]]
    assert len(gpu) == 1 and gpu[0]["status"]["allocatable"]["nvidia.com/gpu"] == "1"
    assert all(n["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == "true" for n in nodes)


def _deployment(name: str, env_value: str, gpu: bool) -> str:
    spec: dict[str, object] = {"containers": [{"name": "app", "image": "example.invalid/app:1", "env": [{"name": "PIN", "value": env_value}]}]}
    if gpu:
        spec["nodeSelector"] = {GPU_LABEL[0]: GPU_LABEL[1]}
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}})


def test_a_pod_template_change_rolls_a_new_replicaset_onto_the_gpu_node(cluster: RealCluster,
                                                                        cluster_lab: ClusterLab) -> None:
    """The scheduler binds, kwok runs, the deployment controller rolls: what the model pin relies on."""
    kube, name = kubectl(cluster_lab), f"roll-{uuid.uuid4().hex[:6]}"
    kube.apply(stdin=_deployment(name, "sha-1", gpu=True))
    kube.rollout_status(f"deployment/{name}", "default", 90)
    kube.apply(stdin=_deployment(name, "sha-2", gpu=True))
    kube.rollout_status(f"deployment/{name}", "default", 90)
    sets = [r for r in kube.get_json("replicasets", namespace="default")["items"]
            if r["metadata"]["labels"].get("app") == name]
    assert len(sets) == 2
    pods = [p for p in kube.get_json("pods", namespace="default")["items"] if p["metadata"]["labels"].get("app") == name
            and p["status"].get("phase") == "Running"]
    assert pods and all(p["spec"]["nodeName"].endswith("-gpu-0") for p in pods)


# --- the project's Argo CD layer against the real Argo CD -----------------------------------------
def test_the_argocd_layer_runs_against_the_real_argocd(argocd_up: ClusterLayer, cluster: RealCluster,
                                                        cluster_lab: ClusterLab) -> None:
    password = cluster_lab.ctx.state.secret("argocd_admin_password")
    live = kubectl(cluster_lab).get_json("secret", "argocd-initial-admin-secret", "argocd")
    assert base64.b64decode(live["data"]["password"]).decode() == password  # written by the real argocd-server
    with ArgoCD(cluster.argocd_url, timeout=10) as api:
        api.login("admin", password)
        assert "root" in [a.name for a in api.applications()]


def test_every_application_syncs_and_turns_healthy_on_kwok_pods(argocd_up: ClusterLayer, cluster: RealCluster,
                                                                 cluster_lab: ClusterLab, gitops: GitOps) -> None:
    out = io.StringIO()
    layer = layer_for(cluster_lab, cluster, gitops.tree, Console(file=out, width=200))
    apps = wait_synced(layer, lambda: argocd_layer.client(layer), cluster_lab.ctx.state.secret("argocd_admin_password"))
    names = {a.name for a in apps}
    main_apps = {yaml.safe_load(p.read_text())["metadata"]["name"] for p in (gitops.tree / "_main_apps").glob("*.yaml")}
    assert {"root"} | main_apps <= names, names
    assert all(a.sync == "Synced" and a.health == "Healthy" for a in apps)
    assert "Argo CD applications" in out.getvalue() and "root" in out.getvalue()  # the live table
    assert argocd_layer.all_synced(layer)


def test_a_broken_app_times_out_naming_it(argocd_up: ClusterLayer, cluster: RealCluster, cluster_lab: ClusterLab,
                                          gitops: GitOps) -> None:
    broken = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
              "metadata": {"name": "broken-on-purpose", "namespace": "argocd"},
              "spec": {"project": "platform", "destination": {"server": "https://kubernetes.default.svc",
                                                              "namespace": "argocd"},
                       "source": {"repoURL": gitops_repo_url(cluster_lab.ctx.topo), "targetRevision": "main",
                                  "path": "no/such/folder"},
                       "syncPolicy": {"automated": {}}}}
    kube = kubectl(cluster_lab)
    kube.apply(stdin=json.dumps(broken))
    short = cluster_lab.ctx.cfg.model_copy(update={"timeouts": cluster_lab.ctx.cfg.timeouts.model_copy(update={"argocd_sync": 20})})
    ctx = Context(cfg=short, topo=cluster_lab.ctx.topo, state=cluster_lab.ctx.state)
    out = io.StringIO()
    layer = layer_for(cluster_lab, cluster, gitops.tree, Console(file=out, width=200), ctx=ctx)
    try:
        with pytest.raises(WaitTimeout) as caught:
            wait_synced(layer, lambda: argocd_layer.client(layer), cluster_lab.ctx.state.secret("argocd_admin_password"))
    finally:
        kube.run("delete", "application", "broken-on-purpose", "-n", "argocd", "--wait=false")
    assert "broken-on-purpose" in caught.value.message
    assert "broken-on-purpose: sync=" in out.getvalue()  # the dump names it, with its condition below
    assert "no/such/folder" in out.getvalue()

