"""The multicluster profile's production cluster, a group of its own ("Cluster-prd"): its API answers
through its own kubeconfig, its node is Ready, its system pods run, and the lab's Argo CD (in the first
cluster) holds the cluster Secret that names it. Without the profile the group is not shown."""

from __future__ import annotations

import base64

from gitopslab.doctor.cluster import _condition, pod_problem
from gitopslab.doctor.probe import KubeError, Probe
from gitopslab.doctor.result import CheckResult, fail, ok
from gitopslab.doctor.runner import Check
from gitopslab.model.topology import prd_cluster_name

G = "Cluster-prd"
# render/multicluster.py's names (the doctor reads the lab, it does not import the stack that made it)
CLUSTER_SECRET = "gitopslab-cluster-prd"


def _name(p: Probe) -> str:
    return p.topo.prd_cluster_name or prd_cluster_name(p.topo.lab)


def api(p: Probe) -> CheckResult:
    kubeconfig = p.state.kubeconfig_prd
    if not kubeconfig.exists():
        return fail(G, "api", f"no kubeconfig at {kubeconfig}: the production cluster {_name(p)} was not created",
                    "gitopslab up --profile multicluster")
    try:
        version = p.kubectl_raw("/version", kubeconfig=kubeconfig)
    except KubeError as exc:
        return fail(G, "api", f"the production cluster's API does not answer: {exc}",
                    f"k3d cluster list; k3d cluster start {_name(p)} (or gitopslab up)")
    return ok(G, "api", f"{_name(p)}: Kubernetes {version.get('gitVersion', '?')} answers (kubeconfig {kubeconfig})")


def nodes(p: Probe) -> CheckResult:
    items = p.kubectl_raw("/api/v1/nodes", kubeconfig=p.state.kubeconfig_prd).get("items", [])
    bad = [n["metadata"]["name"] for n in items if _condition(n, "Ready").get("status") != "True"]
    if not items or bad:
        return fail(G, "nodes", f"not Ready: {', '.join(bad) or 'no nodes'}", f"docker logs k3d-{_name(p)}-server-0")
    return ok(G, "nodes", f"{len(items)} node(s) Ready")


def system_pods(p: Probe) -> CheckResult:
    kubeconfig = p.state.kubeconfig_prd
    items = p.kubectl_raw("/api/v1/namespaces/kube-system/pods", kubeconfig=kubeconfig).get("items", [])
    bad = [f"{pod['metadata']['name']} ({why})" for pod in items if (why := pod_problem(pod))]
    if bad:
        return fail(G, "system-pods", f"{len(bad)} of {len(items)} kube-system pods unhealthy: {'; '.join(bad)}",
                    f"kubectl --kubeconfig {kubeconfig} -n kube-system describe pod {bad[0].split(' ')[0]}")
    return ok(G, "system-pods", f"{len(items)} kube-system pods running")


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
