"""Offline, the k3d node pulls nothing: right after the cluster exists, the node images a bundle put
in the engine (the GitOps tree's workloads, Argo CD's and k3s's from the bundled files) are imported
with the node's own ctr from a single-platform archive (k3d's import fails on the containerd image
store: tests/offline/test_image_stores.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gitopslab.conductor import plan
from gitopslab.conductor import runner as orchestrator
from gitopslab.errors import LabError
from gitopslab.model.config import LabConfig
from gitopslab.offline.archive import bundle_dir
from gitopslab.offline.needs import ARGOCD_MANIFEST, K3S_IMAGES, lab_needs
from gitopslab.stack.cluster_layer import ClusterLayer
from gitopslab.stack.step import Step
from tests.fakes.cluster_lab import Lab

OFFLINE = LabConfig(name="room", offline=True)
PAUSE = "docker.io/rancher/mirrored-pause:3.6"
ARGOCD = "quay.io/argoproj/argocd:v3.6.1"


def _bundle_files(lab: Lab) -> None:
    folder = bundle_dir(lab.ctx)
    folder.mkdir(parents=True)
    (folder / K3S_IMAGES).write_text(f"{PAUSE}\n")
    (folder / ARGOCD_MANIFEST).write_text(f"kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
                                          f"        - name: argocd-server\n          image: {ARGOCD}\n")


def test_the_bundle_node_images_are_imported_once_after_the_cluster_exists(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(OFFLINE)
    _bundle_files(lab)
    wanted = set(lab_needs(lab.ctx, bundle_dir(lab.ctx)).node)
    assert {PAUSE, ARGOCD} <= wanted
    lab.world.images |= wanted  # what `bundle load` put in the engine
    layer = lab.layer(OFFLINE)
    steps = cluster_steps(layer)
    names = [s.name for s in steps]
    assert names.index("cluster.offline-images") == names.index("cluster.create") + 1

    orchestrator.run(lab.ctx, steps)
    assert lab.world.node_images == wanted
    mark = len(lab.world.calls)
    report = orchestrator.run(lab.ctx, cluster_steps(layer))
    assert [o.action for o in report.outcomes if o.name == "cluster.offline-images"] == ["skipped"]
    assert not [c for c in lab.world.since(mark) if "import" in str(c)]


def test_an_image_the_engine_lacks_is_named_with_the_fix(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(OFFLINE)
    _bundle_files(lab)
    lab.world.images |= set(lab_needs(lab.ctx, bundle_dir(lab.ctx)).node) - {PAUSE}
    with pytest.raises(LabError) as raised:
        orchestrator.run(lab.ctx, cluster_steps(lab.layer(OFFLINE)))
    message, hint = raised.value.message, raised.value.hint or ""
    assert "importing" in message and PAUSE in message
    assert "bundle load" in hint


def test_online_labs_import_nothing(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(LabConfig(name="room"))
    assert "cluster.offline-images" not in [s.name for s in cluster_steps(lab.layer(LabConfig(name="room")))]


def cluster_steps(layer: ClusterLayer) -> list[Step]:
    """As `up` plans them (conductor/plan.py)."""
    return plan.cluster_steps(layer.ctx, layer)
