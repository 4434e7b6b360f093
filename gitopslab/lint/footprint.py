"""The memory a profile asks of the cluster: summed container memory limits x replicas of every
long-running workload the profile's Applications deploy (Argo CD itself, k3s and the compose layer are
outside the GitOps tree and not counted). Jobs and CronJobs finish and are left out.

An Application belongs to a profile by its label `gitopslab.io/profile` (no label: `core`). The target for
`core` is <= 4 GiB so the lab fits an 8 GB laptop; prd workloads that would not fit run at 0 replicas.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from gitopslab.lint.apps import applications, deployed_objects
from gitopslab.lint.loader import Tree, load
from gitopslab.lint.workloads import pod_spec

if TYPE_CHECKING:
    from gitopslab.model.config import LabConfig

CORE_BUDGET_BYTES = 4 * 1024**3
_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
          "Ti": 2**40, "m": 0.001}
_LONG_RUNNING = {"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Pod"}


def parse_quantity(value: str | int | float) -> int:
    m = re.fullmatch(r"\s*([0-9.]+(?:[eE][0-9]+)?)\s*([a-zA-Z]*)\s*", str(value))
    if not m or m.group(2) not in _UNITS:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def memory_limits(tree: Path | str | Tree, profile: str = "core") -> dict[str, int]:
    """`Kind/namespace/name` -> bytes (per-pod memory limit x replicas), for the profile's Applications."""
    t = tree if isinstance(tree, Tree) else load(Path(tree))
    out: dict[str, int] = {}
    for app in applications(t):
        labels = ((app.origin.data.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") \
            if app.origin.kind == "ApplicationSet" else (app.origin.data.get("metadata") or {}).get("labels")
        if ((labels or {}).get("gitopslab.io/profile") or "core") != profile:
            continue
        for obj in deployed_objects(t, app):
            pod = pod_spec(obj)
            if pod is None or obj.kind not in _LONG_RUNNING:
                continue
            replicas = 1 if obj.kind in {"Pod", "DaemonSet"} else int((obj.data.get("spec") or {}).get("replicas", 1))
            per_pod = sum(parse_quantity(((c.get("resources") or {}).get("limits") or {}).get("memory", 0))
                          for c in pod.get("containers") or [])
            ns = obj.namespace or app.destination["namespace"]
            out[f"{obj.kind}/{ns}/{obj.name}"] = per_pod * replicas
    return out


def profiles_footprint(cfg: LabConfig) -> dict[str, object]:
    """Summed container memory limits (x replicas) of what the active profiles deploy, from the
    shipped gitops/ tree; Argo CD, k3s and the compose layer are outside it and listed apart.
    Here, not in render: it builds the tree with `kubectl kustomize`, and render runs no program."""
    from gitopslab.lint import shipped_gitops_dir
    from gitopslab.model.observability import chart_memory_mib
    from gitopslab.model.topology import PRD_NODE_MEMORY_MIB, prd_cluster_name

    tree = shipped_gitops_dir()
    per_object: dict[str, int] = {}
    for profile in cfg.profiles:
        per_object |= memory_limits(tree, profile)
    if "observability" in cfg.profiles:
        per_object["HelmRelease/monitoring/kube-prometheus-stack (values.yaml)"] = chart_memory_mib(tree) * 2**20
    if "kserve" in cfg.profiles:  # its charts' pods and the predictors are not Deployments in the tree
        from gitopslab.model.kserve import memory_limits as kserve_limits

        per_object |= {key: parse_quantity(limit) for key, limit in kserve_limits(tree).items()}
    prd_cluster: dict[str, int] = {}
    if "multicluster" in cfg.profiles:
        # prd's workloads run on the production node, whose memory cap bounds them and its k3s together:
        # the cap is counted, they are listed apart (inside it), not counted twice.
        prd_cluster = {k: v for k, v in per_object.items() if k.split("/")[1].endswith("-prd")}
        per_object = {k: v for k, v in per_object.items() if k not in prd_cluster}
        per_object[f"k3d node {prd_cluster_name(cfg.name)}-server-0 (memory cap: k3s + prd workloads)"] = \
            PRD_NODE_MEMORY_MIB * 2**20
    summed = sum(per_object.values())
    return {"profiles": cfg.profiles, "objects": per_object, "prd_cluster": prd_cluster, "total_bytes": summed,
            "total_gib": summed / 2**30}


def total(limits: dict[str, int]) -> int:
    return sum(limits.values())


def format_bytes(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"
