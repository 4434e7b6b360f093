"""Offline, the k3d node cannot pull: after the cluster exists, the node images the bundle brought
into the engine (the GitOps tree's workloads, Argo CD's, k3s's system images) are imported into the
node's containerd with `k3d image import --mode direct` (the default mode starts a tools container).

Pods created before the import wait in ImagePullBackOff and start on their next retry."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from gitopslab.errors import ToolError
from gitopslab.offline.archive import bundle_dir
from gitopslab.offline.needs import lab_needs
from gitopslab.stack.step import FuncStep, Step

if TYPE_CHECKING:
    from gitopslab.stack.cluster_layer import ClusterLayer


def node_images(layer: ClusterLayer) -> list[str]:
    return sorted(lab_needs(layer.ctx, bundle_dir(layer.ctx)).node)


def _node(layer: ClusterLayer) -> str:
    return f"k3d-{layer.name}-server-0"


def in_node(layer: ClusterLayer) -> set[str]:
    """Image references the node's containerd holds (crictl, shipped in every k3s node)."""
    result = layer.deps.runner([layer.deps.engine_cli, "exec", _node(layer), "crictl", "images", "-o", "json"],
                               timeout=60)
    if not result.ok:
        return set()
    listed = json.loads(str(result.stdout) or "{}").get("images") or []
    return {tag for image in listed for tag in image.get("repoTags") or []}


def missing(layer: ClusterLayer) -> list[str]:
    have = in_node(layer)
    return [ref for ref in node_images(layer) if ref not in have and _short(ref) not in have]


def _short(ref: str) -> str:
    """containerd lists docker.io/library images by their full name; k3s lists others as given."""
    return ref.removeprefix("docker.io/library/")


def import_images(layer: ClusterLayer) -> None:
    refs = missing(layer)
    if not refs:
        return
    try:
        layer.k3d.run("image", "import", *refs, "--cluster", layer.name, "--mode", "direct", timeout=1800)
    except ToolError as exc:
        raise ToolError(f"importing {len(refs)} bundle image(s) into the k3d node failed: {exc.message}",
                        hint="check they are in the engine (`gitopslab bundle load FILE`), then "
                             "`gitopslab up --offline` again") from exc


def step(layer: ClusterLayer) -> Step:
    return FuncStep("cluster.offline-images", "bundle images into the k3d node (offline: the node pulls nothing)",
                    lambda c: not missing(layer), lambda c: import_images(layer))


def with_import(steps: list[Step], layer: ClusterLayer) -> list[Step]:
    """The cluster's steps with the import right after the cluster is created (offline, nothing else
    would bring the node its images)."""
    at = next(i for i, s in enumerate(steps) if s.name == "cluster.create") + 1
    return [*steps[:at], step(layer), *steps[at:]]
