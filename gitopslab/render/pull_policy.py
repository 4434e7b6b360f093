"""Install manifests made to start the images already on the node (`up --offline`).

Argo CD's install manifest sets `imagePullPolicy: Always`: the kubelet then asks the image's registry on
every pod start, even with the image on the node. Offline, `bundle load` has imported every image into
the node, but no registry is reachable, so such a pod stays in ErrImagePull. The tags are pinned
(model/versions.py), so the node's copy is the image the manifest means: IfNotPresent is enough.
"""

from __future__ import annotations

from typing import Any

import yaml

# Where each workload kind keeps its pod spec.
_POD_SPEC = {
    "Pod": ("spec",),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    **{kind: ("spec", "template", "spec") for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")},
}
# The manifest is about 2 MB: libyaml where PyYAML has it (a second rather than ten).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def pod_specs(docs: list[Any]) -> list[dict[str, Any]]:
    """The pod spec of every workload among `docs`."""
    found = []
    for doc in docs:
        path = _POD_SPEC.get(str(doc.get("kind"))) if isinstance(doc, dict) else None
        spec: Any = doc
        for key in path or ():
            spec = spec.get(key) if isinstance(spec, dict) else None
        if path and isinstance(spec, dict):
            found.append(spec)
    return found


def pull_if_not_present(manifest: str) -> str:
    """`manifest` with `imagePullPolicy: IfNotPresent` on every container and initContainer, nothing else changed."""
    docs = [d for d in yaml.load_all(manifest, Loader=_LOADER) if d is not None]
    for spec in pod_specs(docs):
        for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
            container["imagePullPolicy"] = "IfNotPresent"
    return str(yaml.dump_all(docs, Dumper=_DUMPER, sort_keys=False))
