"""Cluster checks through kubectl and the lab's kubeconfig: the API answers, nodes are Ready, system
pods run, and (gpu profile) a node offers nvidia.com/gpu."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitopslab.doctor.probe import KubeError, Probe
from gitopslab.doctor.result import CheckResult, fail, ok, skip
from gitopslab.doctor.runner import Check

G = "Cluster"


@dataclass(frozen=True)
class ClusterRef:
    """Which of the lab's clusters the api/nodes/system-pods checks read (the first, or the multicluster
    profile's production one, doctor/cluster_prd.py): one set of checks, each cluster's words."""

    group: str
    kubeconfig: Path
    name: str       # the k3d cluster
    api_words: str  # what does not answer
    missing: str    # why there is no kubeconfig
    create: str     # the command that creates the cluster


def _first(p: Probe) -> ClusterRef:
    return ClusterRef(G, p.state.kubeconfig, p.topo.cluster_name, "the Kubernetes API",
                      f"the cluster of lab {p.cfg.name!r} was not created", "gitopslab up")


def api_of(p: Probe, c: ClusterRef) -> CheckResult:
    if not c.kubeconfig.exists():
        return fail(c.group, "api", f"no kubeconfig at {c.kubeconfig}: {c.missing}", c.create)
    try:
        version = p.kubectl_raw("/version", kubeconfig=c.kubeconfig)
    except KubeError as exc:
        return fail(c.group, "api", f"{c.api_words} does not answer: {exc}",
                    f"k3d cluster list; k3d cluster start {c.name} (or gitopslab up)")
    # The production cluster's line names it; the first cluster's reads as it always has (`up` prints it).
    named = "" if c.group == G else f"{c.name}: "
    return ok(c.group, "api", f"{named}Kubernetes {version.get('gitVersion', '?')} answers "
                              f"(kubeconfig {c.kubeconfig})")


def api(p: Probe) -> CheckResult:
    return api_of(p, _first(p))


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    for cond in obj.get("status", {}).get("conditions", []) or []:
        if cond.get("type") == kind:
            return dict(cond)
    return {}


def nodes_of(p: Probe, c: ClusterRef) -> CheckResult:
    items = p.kubectl_raw("/api/v1/nodes", kubeconfig=c.kubeconfig).get("items", [])
    if not items:
        return fail(c.group, "nodes", "the cluster has no nodes", c.create)
    bad = []
    for node in items:
        ready = _condition(node, "Ready")
        if ready.get("status") != "True":
            bad.append(f"{node['metadata']['name']} not Ready ({ready.get('reason') or 'no Ready condition'}"
                       f"{': ' + ready['message'] if ready.get('message') else ''})")
    if bad:
        return fail(c.group, "nodes", "; ".join(bad), f"docker logs k3d-{c.name}-server-0")
    return ok(c.group, "nodes", f"{len(items)} node(s) Ready")


def nodes(p: Probe) -> CheckResult:
    return nodes_of(p, _first(p))


def pod_problem(pod: dict[str, Any]) -> str | None:
    """Why a pod is not fine, or None: the waiting/terminated reason of its first unready container."""
    phase = pod.get("status", {}).get("phase")
    if phase == "Succeeded":
        return None
    for cs in pod.get("status", {}).get("containerStatuses", []) or []:
        if cs.get("ready"):
            continue
        state = cs.get("state", {})
        why = (state.get("waiting") or state.get("terminated") or {}).get("reason") or "not ready"
        return f"container {cs.get('name')}: {why}"
    if phase != "Running":
        return f"phase {phase}"
    return None


def system_pods_of(p: Probe, c: ClusterRef) -> CheckResult:
    items = p.kubectl_raw("/api/v1/namespaces/kube-system/pods", kubeconfig=c.kubeconfig).get("items", [])
    bad = [f"{pod['metadata']['name']} ({why})" for pod in items if (why := pod_problem(pod))]
    if bad:
        first = bad[0].split(" ")[0]
        return fail(c.group, "system-pods",
                    f"{len(bad)} of {len(items)} kube-system pods unhealthy: {'; '.join(bad)}",
                    f"kubectl --kubeconfig {c.kubeconfig} -n kube-system describe pod {first}")
    return ok(c.group, "system-pods", f"{len(items)} kube-system pods running")


def system_pods(p: Probe) -> CheckResult:
    return system_pods_of(p, _first(p))


def gpu(p: Probe) -> CheckResult:
    if p.cfg.gpu == "off":
        return skip(G, "gpu", "the gpu profile is off")
    items = p.kubectl_raw("/api/v1/nodes").get("items", [])
    have = {n["metadata"]["name"]: n.get("status", {}).get("allocatable", {}).get("nvidia.com/gpu", "0")
            for n in items}
    gpus = {k: v for k, v in have.items() if str(v) not in ("0", "")}
    if gpus:
        return ok(G, "gpu", ", ".join(f"{k}: {v} nvidia.com/gpu" for k, v in gpus.items()))
    return fail(G, "gpu", "no node offers nvidia.com/gpu (device plugin not running, or no GPU runtime)",
                f"kubectl --kubeconfig {p.state.kubeconfig} -n kube-system logs -l name=nvidia-device-plugin-ds")


def checks() -> list[Check]:
    gate = ("Cluster/api",)
    return [
        Check(G, "api", api, needs=("Host/kubectl",)),
        Check(G, "nodes", nodes, needs=gate),
        Check(G, "system-pods", system_pods, needs=gate),
        Check(G, "gpu", gpu, needs=gate),
    ]
