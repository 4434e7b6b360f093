"""Offline, the k3d node cannot pull: after the cluster exists, the node images the bundle brought
into the engine (the GitOps tree's workloads, Argo CD's, k3s's system images) are imported into the
node's containerd.

Not with `k3d image import`: it runs `ctr image import --all-platforms` in the node on `docker save`'s
archive, and an engine with Docker's containerd image store (Docker Desktop's default) saves each
image's whole index but only its own platform's blobs, so that import fails (k3d issue 1538). Here
the archive is made a single-platform Docker archive first (offline/image_tar.py), copied into the
node and imported with the node's own `ctr` (no --all-platforms): one path for both image stores.

Pods created before the import wait in ImagePullBackOff and start on their next retry."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from gitopslab.errors import ToolError
from gitopslab.offline import image_tar
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
    engine, node = layer.deps.engine_cli, _node(layer)
    inside = "/tmp/gitopslab-images.tar"
    layer.ctx.state.dir.mkdir(parents=True, exist_ok=True)
    # Beside the state dir, not in a RAM-backed /tmp: the node's images are gigabytes.
    with tempfile.TemporaryDirectory(prefix=".node-images-", dir=layer.ctx.state.dir) as tmp:
        saved, single = Path(tmp) / "saved.tar", Path(tmp) / "node.tar"
        for what, argv in (("saving them from the engine", [engine, "save", "-o", str(saved), *refs]),
                           ("copying them into the node", None),
                           ("importing them with the node's ctr",
                            [engine, "exec", node, "ctr", "-n", "k8s.io", "images", "import", inside])):
            if argv is None:
                image_tar.single_platform(saved, single)
                argv = [engine, "cp", str(single), f"{node}:{inside}"]
            result = layer.deps.runner(argv, timeout=1800)
            if not result.ok:
                last = (str(result.stderr).strip().splitlines() or ["no output"])[-1]
                raise ToolError(f"importing {len(refs)} bundle image(s) ({', '.join(refs)}) into the k3d node "
                                f"failed {what}: {last}",
                                hint="check they are in the engine (`gitopslab bundle load FILE`), then "
                                     "`gitopslab up --offline` again")
    layer.deps.runner([engine, "exec", node, "rm", "-f", inside], timeout=60)


def _prefix(layer: ClusterLayer) -> str:
    """Step names per cluster: `cluster.*` for the first, `prd.*` for the multicluster profile's second."""
    return "prd" if layer.role == "prd" else "cluster"


def step(layer: ClusterLayer) -> Step:
    return FuncStep(f"{_prefix(layer)}.offline-images",
                    f"bundle images into the k3d node {_node(layer)} (offline: the node pulls nothing)",
                    lambda c: not missing(layer), lambda c: import_images(layer))


def with_import(steps: list[Step], layer: ClusterLayer) -> list[Step]:
    """The cluster's steps with the import right after the cluster is created (offline, nothing else
    would bring the node its images)."""
    at = next(i for i, s in enumerate(steps) if s.name == f"{_prefix(layer)}.create") + 1
    return [*steps[:at], step(layer), *steps[at:]]
