"""`down` and `destroy` act only on a k3d cluster whose nodes carry the lab's label; one that only
has the lab's name (made by hand, another tool, another copy of gitopslab) is named and left alone,
and destroy's preview lists the cluster it would delete."""

from __future__ import annotations

from collections.abc import Callable

from gitopslab.model.topology import LABEL
from tests.fakes.cluster_lab import Lab
from tests.stack.test_cluster_layer import up


def foreign_cluster(lab: Lab) -> str:
    """A cluster named like the lab's, created without the lab's runtime label."""
    name = lab.ctx.topo.cluster_name
    lab.world.clusters[name] = {"config": {"metadata": {"name": name}, "network": lab.ctx.topo.network,
                                           "kubeAPI": {"hostPort": "6550"}}, "running": True}
    return name


def test_destroy_leaves_a_cluster_without_the_label(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    name = foreign_cluster(lab)
    layer = lab.layer()
    assert layer.remove() is False
    assert name in lab.world.clusters
    assert not [c for c in lab.world.calls if c.words()[:3] == ["k3d", "cluster", "delete"]]
    preview = layer.preview()
    assert name in preview and "not this lab's" in preview and LABEL in preview


def test_down_does_not_stop_a_cluster_without_the_label(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    name = foreign_cluster(lab)
    assert lab.layer().stop() is False
    assert lab.world.clusters[name]["running"] is True
    assert not [c for c in lab.world.calls if c.words()[:3] == ["k3d", "cluster", "stop"]]


def test_the_labs_own_cluster_is_in_the_preview_and_is_deleted(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    up(lab)
    name = lab.ctx.topo.cluster_name
    layer = lab.layer()
    preview = layer.preview()
    assert preview.startswith(f"cluster: {name}") and "not this lab's" not in preview
    assert lab.world.clusters[name]["running"] is True  # a preview changes nothing
    assert layer.remove() is True and lab.world.clusters == {}
    assert layer.preview() == "cluster: (none)"
