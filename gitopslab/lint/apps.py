"""Applications as Argo CD would see them: plain Application objects, and the Applications an
ApplicationSet's list generators produce (other generators: the template itself, placeholders kept)."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from gitopslab.lint.loader import Obj, Tree

_PLACEHOLDER = re.compile(r"\{\{\s*\.?([A-Za-z0-9_.\-]+)\s*\}\}")
CLUSTER_SCOPED = {
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "StorageClass", "PriorityClass", "RuntimeClass", "IngressClass", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "APIService", "CSIDriver", "CSINode", "VolumeAttachment", "VolumeSnapshotClass", "ClusterIssuer",
    "CertificateSigningRequest", "FlowSchema", "PriorityLevelConfiguration", "ClusterServiceVersion",
}


@dataclass
class App:
    name: str
    spec: dict[str, Any]
    origin: Obj  # the Application or ApplicationSet it comes from

    @property
    def project(self) -> str:
        return str(self.spec.get("project") or "")

    @property
    def destination(self) -> dict[str, str]:
        d = self.spec.get("destination") or {}
        return {k: str(d.get(k) or "") for k in ("server", "name", "namespace")}

    @property
    def sources(self) -> list[dict[str, Any]]:
        srcs = list(self.spec.get("sources") or [])
        if self.spec.get("source"):
            srcs.insert(0, self.spec["source"])
        return [s for s in srcs if isinstance(s, dict)]

    @property
    def ref(self) -> str:
        return self.origin.ref if self.origin.kind == "Application" else f"{self.origin.ref} -> Application/{self.name}"


def templated(value: str) -> bool:
    return "{{" in value


def _lookup(element: dict[str, Any], key: str) -> Any:
    cur: Any = element
    for part in key.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _render(node: Any, element: dict[str, Any]) -> Any:
    if isinstance(node, str):
        return _PLACEHOLDER.sub(lambda m: str(v) if (v := _lookup(element, m.group(1))) is not None
                                else m.group(0), node)
    if isinstance(node, list):
        return [_render(n, element) for n in node]
    if isinstance(node, dict):
        return {k: _render(v, element) for k, v in node.items()}
    return node


def _from_appset(obj: Obj) -> list[App]:
    spec = obj.data.get("spec") or {}
    template = spec.get("template") or {}
    elements: list[dict[str, Any]] = []
    other = False
    for gen in spec.get("generators") or []:
        if isinstance(gen, dict) and "list" in gen:
            elements += [e for e in (gen["list"] or {}).get("elements") or [] if isinstance(e, dict)]
        else:
            other = True
    rendered = [_render(copy.deepcopy(template), e) for e in elements]
    if other or not rendered:
        rendered.append(template)
    return [App(str((t.get("metadata") or {}).get("name") or obj.name), t.get("spec") or {}, obj) for t in rendered]


def applications(tree: Tree) -> list[App]:
    out: list[App] = []
    for obj in tree.objects:
        if obj.group != "argoproj.io":
            continue
        if obj.kind == "Application":
            out.append(App(obj.name, obj.data.get("spec") or {}, obj))
        elif obj.kind == "ApplicationSet":
            out.extend(_from_appset(obj))
    return out


def projects(tree: Tree) -> dict[str, Obj]:
    return {o.name: o for o in tree.objects if o.group == "argoproj.io" and o.kind == "AppProject"}


def deployed_objects(tree: Tree, app: App) -> list[Obj]:
    """The objects of this repo an Application deploys (matched by source path)."""
    out: list[Obj] = []
    for src in app.sources:
        path = str(src.get("path") or "").strip().removeprefix("./").rstrip("/") or "."
        if templated(path):
            continue
        if path in tree.builds:
            out.extend(tree.builds[path])
            continue
        recurse = bool((src.get("directory") or {}).get("recurse"))
        for d, objs in tree.plain_dirs.items():
            if d == path or (recurse and (path == "." or d.startswith(path + "/"))):
                out.extend(objs)
    return out


def effective_namespace(obj: Obj, app: App | None) -> str:
    if obj.kind in CLUSTER_SCOPED:
        return ""
    return obj.namespace or (app.destination["namespace"] if app else "")
