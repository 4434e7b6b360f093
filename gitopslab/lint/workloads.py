"""Rules on what runs: resources declared on every container, pinned images, GPUs only in ML namespaces."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gitopslab.lint import policy
from gitopslab.lint.globs import glob_match
from gitopslab.lint.loader import Obj
from gitopslab.lint.rules import Finding

WORKLOAD_KINDS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}


def pod_spec(obj: Obj) -> dict[str, Any] | None:
    spec = obj.data.get("spec") or {}
    if obj.kind == "Pod":
        return spec
    if obj.kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    if obj.kind in WORKLOAD_KINDS:
        return (spec.get("template") or {}).get("spec") or {}
    return None


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])] if isinstance(c, dict)]


def uses_gpu(pod: dict[str, Any]) -> bool:
    if pod.get("runtimeClassName") == policy.GPU_RUNTIME_CLASS:
        return True
    for c in containers(pod):
        res = c.get("resources") or {}
        if any(policy.GPU_RESOURCE in (res.get(k) or {}) for k in ("requests", "limits")):
            return True
    return False


def _unpinned(image: str) -> bool:
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1] == "latest"


def check_workload(obj: Obj, namespace: str) -> Iterator[Finding]:
    pod = pod_spec(obj)
    if pod is None:
        return
    if uses_gpu(pod) and not (namespace and glob_match(policy.ML_NAMESPACES, namespace)):
        yield Finding("GL301", obj.file, obj.ref,
                      f"requests a GPU in namespace {namespace or '(unknown)'!r}; GPUs belong to {policy.ML_NAMESPACES}")
    for c in containers(pod):
        res = c.get("resources") or {}
        missing = [f"{k}.{r}" for k in ("requests", "limits") for r in ("cpu", "memory")
                   if r not in (res.get(k) or {})]
        if missing:
            yield Finding("GL302", obj.file, obj.ref, f"container {c.get('name')!r} lacks {', '.join(missing)}")
        image = str(c.get("image") or "")
        if _unpinned(image):
            yield Finding("GL303", obj.file, obj.ref, f"container {c.get('name')!r} image {image!r} is not pinned")
