"""Issue 25: the production cluster of the multicluster profile, through the process boundary (FakeWorld
stands in for k3d, kubectl and docker). It is made from its own k3d config with its own kubeconfig and
context; Argo CD's ServiceAccount gets the prd namespaces only; the cluster Secret the first cluster's
Argo CD reads carries that token and CA, through stdin only; a second run does nothing; down stops and
destroy removes it only while it carries the lab's label."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import yaml

from gitopslab.conductor import runner as orchestrator
from gitopslab.model.config import LabConfig
from gitopslab.render import multicluster
from gitopslab.stack.prd_cluster import PrdClusterLayer, prd_layer
from tests.fakes.cluster_lab import Lab

TOKEN = "eyJhbGciOiJSUzI1NiJ9.prd-token"
CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----prd").decode()


def _token_controller(lab: Lab) -> None:
    """What kube-controller-manager does for a service-account-token Secret: fills token and ca.crt."""
    key = ("Secret", multicluster.MANAGER_NAMESPACE, multicluster.MANAGER_TOKEN)
    secret = lab.world.objects[key]
    secret["data"] = {"token": base64.b64encode(TOKEN.encode()).decode(), "ca.crt": CA}


def _up(lab: Lab) -> tuple[PrdClusterLayer, orchestrator.RunReport]:
    dev = lab.layer()
    prd = prd_layer(dev)
    assert prd is not None
    world_apply = lab.world._apply

    def apply_then_fill(args, stdin):  # type: ignore[no-untyped-def]
        out = world_apply(args, stdin)
        if stdin and multicluster.MANAGER_TOKEN in stdin:
            _token_controller(lab)
        return out

    lab.world._apply = apply_then_fill  # type: ignore[method-assign]
    # Argo CD's namespace exists in the first cluster (argocd.install made it).
    lab.world.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}})
    return prd, orchestrator.run(lab.ctx, [*prd.cluster_steps(), prd.registration_step(dev)])


def test_the_production_cluster_is_made_and_registered(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(LabConfig(multicluster=True))
    prd, report = _up(lab)
    assert [o.action for o in report.outcomes] == ["applied"] * 5
    state = lab.ctx.state
    calls = [str(c) for c in lab.world.calls]
    assert f"k3d cluster create --config {state.dir / 'k3d' / 'cluster-prd.yaml'}" in calls
    assert "k3d kubeconfig get gitopslab-prd" in calls
    made = lab.world.clusters["gitopslab-prd"]["config"]
    assert made["servers"] == 1 and made["agents"] == 0 and made["network"] == lab.ctx.topo.network
    assert (state.dir / "kubeconfig-prd").is_file()
    # the access objects go to the production cluster's context, the cluster Secret to the first one's
    prd_ctx = f"--kubeconfig {state.dir / 'kubeconfig-prd'} --context k3d-gitopslab-prd"
    dev_ctx = f"--kubeconfig {state.kubeconfig} --context k3d-gitopslab"
    access = [c for c in lab.world.calls if c.stdin and "argocd-manager" in c.stdin and "RoleBinding" in c.stdin]
    assert len(access) == 1 and prd_ctx in " ".join(access[0].argv)
    registered = [c for c in lab.world.calls if c.stdin and multicluster.CLUSTER_SECRET in c.stdin]
    assert len(registered) == 1 and dev_ctx in " ".join(registered[0].argv)
    assert TOKEN not in " ".join(" ".join(c.argv) for c in lab.world.calls)  # never in argv
    secret = lab.world.get("Secret", "argocd", multicluster.CLUSTER_SECRET)
    assert secret is not None
    assert secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data["name"] == "prd" and data["server"] == "https://kube-prd.localhost:6551"
    assert data["namespaces"] == "app-prd,ml-prd" and data["clusterResources"] == "false"
    assert json.loads(data["config"]) == {"bearerToken": TOKEN, "tlsClientConfig": {"insecure": False, "caData": CA}}
    # nothing cluster-wide was granted
    applied = [d for c in access for d in yaml.safe_load_all(c.stdin or "") if d]
    assert {d["kind"] for d in applied} == {"Namespace", "ServiceAccount", "Secret", "ClusterRole", "RoleBinding"}
    stored = state.stored_settings() or {}
    assert stored["cluster_prd"]["cluster"] == "gitopslab-prd"
    assert stored["cluster_prd"]["ports"] == {"hello_api_prd": "8089:30888"}


def test_a_second_up_does_nothing(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(LabConfig(multicluster=True))
    _up(lab)
    dev = lab.layer()
    prd = prd_layer(dev)
    assert prd is not None
    mark = len(lab.world.calls)
    report = orchestrator.run(lab.ctx, [*prd.cluster_steps(), prd.registration_step(dev)])
    assert [o.action for o in report.outcomes] == ["skipped"] * 5
    assert not [str(c) for c in lab.world.since(mark) if c.changes()]


def test_down_and_destroy_touch_only_the_labs_own(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(LabConfig(multicluster=True))
    prd, _ = _up(lab)
    assert prd.stop() is True and lab.world.clusters["gitopslab-prd"]["running"] is False
    assert prd.status()["exists"] is True
    assert prd.remove() is True and "gitopslab-prd" not in lab.world.clusters
    assert not (lab.ctx.state.dir / "kubeconfig-prd").exists()
    assert "cluster_prd" not in (lab.ctx.state.stored_settings() or {})
    # a cluster of that name without the lab's label is someone else's: left alone
    lab.world.clusters["gitopslab-prd"] = {"config": {"metadata": {"name": "gitopslab-prd"}, "servers": 1,
                                                      "agents": 0, "network": "other", "options": {}},
                                           "running": True}
    assert prd.remove() is False and "gitopslab-prd" in lab.world.clusters


def test_without_the_profile_there_is_no_production_cluster(make_lab: Callable[..., Lab]) -> None:
    assert prd_layer(make_lab().layer()) is None
