"""The multicluster profile's production cluster, a group of its own ("Cluster-prd"): its API answers
through its own kubeconfig, its node is Ready, its system pods run, and the lab's Argo CD (in the first
cluster) holds the cluster Secret that names it. Without the profile the group is not shown."""

from __future__ import annotations

import base64

from gitopslab.doctor.cluster import ClusterRef, api_of, nodes_of, system_pods_of
from gitopslab.doctor.probe import KubeError, Probe
from gitopslab.doctor.result import CheckResult, fail, ok
from gitopslab.doctor.runner import Check
from gitopslab.model.topology import prd_cluster_name

G = "Cluster-prd"
# render/multicluster.py's names (the doctor reads the lab, it does not import the stack that made it)
CLUSTER_SECRET = "gitopslab-cluster-prd"


def _name(p: Probe) -> str:
    return p.topo.prd_cluster_name or prd_cluster_name(p.topo.lab)


def _prd(p: Probe) -> ClusterRef:
    return ClusterRef(G, p.state.kubeconfig_prd, _name(p), "the production cluster's API",
                      f"the production cluster {_name(p)} was not created", "gitopslab up --profile multicluster")


def api(p: Probe) -> CheckResult:
    return api_of(p, _prd(p))


def nodes(p: Probe) -> CheckResult:
    return nodes_of(p, _prd(p))


def system_pods(p: Probe) -> CheckResult:
    return system_pods_of(p, _prd(p))


def registered(p: Probe) -> CheckResult:
    """The first cluster's Argo CD knows the production cluster by the lab's one URL for its API."""
    try:
        secret = p.kubectl_raw(f"/api/v1/namespaces/argocd/secrets/{CLUSTER_SECRET}")
    except KubeError as exc:
        return fail(G, "argocd-cluster", f"Argo CD has no cluster Secret {CLUSTER_SECRET} ({exc})",
                    "gitopslab up (its argocd.cluster-prd step registers the production cluster)")
    data = secret.get("data") or {}
    server = base64.b64decode(data.get("server", "")).decode(errors="replace")
    if server != p.topo.prd_api_url:
        return fail(G, "argocd-cluster", f"Argo CD's cluster Secret names {server or 'no server'}, the lab's production "
                    f"API is {p.topo.prd_api_url}", "gitopslab up (it rewrites the Secret)")
    return ok(G, "argocd-cluster", f"Argo CD manages cluster 'prd' at {server} (namespaced: app-prd, ml-prd)")


def checks() -> list[Check]:
    gate = (f"{G}/api",)
    return [
        Check(G, "api", api, needs=("Host/kubectl",)),
        Check(G, "nodes", nodes, needs=gate),
        Check(G, "system-pods", system_pods, needs=gate),
        Check(G, "argocd-cluster", registered, needs=(*gate, "Cluster/api")),
    ]
