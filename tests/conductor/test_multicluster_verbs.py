"""Issue 25: down, destroy and status know the production cluster. The conductor runs for real over the
cluster layers wired to FakeWorld (k3d, kubectl, docker stand-ins); the compose layer is out of scope
here (its own tests) and replaced by no-ops. Only the lab's labelled clusters are touched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gitopslab.cli import main
from gitopslab.conductor import destroy, down, status
from gitopslab.model.config import LabConfig
from gitopslab.stack import compose_layer
from tests.fakes.cluster_lab import Lab


@pytest.fixture
def two_clusters(make_lab: Callable[..., Lab], monkeypatch: pytest.MonkeyPatch) -> Lab:
    lab = make_lab(LabConfig(multicluster=True))
    for name in ("gitopslab", "gitopslab-prd"):
        lab.world.clusters[name] = {"config": {"metadata": {"name": name}, "servers": 1, "agents": 0,
                                               "network": lab.ctx.topo.network, "options": {"runtime": {
                                                   "labels": [{"label": "io.gitopslab.lab=gitopslab"}]}}},
                                    "running": True}
    wired = lambda ctx: (lab.layer(), None)  # noqa: E731
    for module in (down, destroy, status):
        monkeypatch.setattr(module, "cluster_layer_if_tools", wired)
    monkeypatch.setattr(compose_layer, "down", lambda ctx: None)
    monkeypatch.setattr(compose_layer, "destroy", lambda ctx: compose_layer.Inventory())
    return lab


def test_down_stops_both_clusters(two_clusters: Lab) -> None:
    result = down.down(two_clusters.ctx)
    assert result["cluster"]["state"] == "stopped"
    assert result["cluster_prd"] == {"state": "stopped", "note": "gitopslab-prd: its disk is kept"}
    assert not any(c["running"] for c in two_clusters.world.clusters.values())


def test_destroy_previews_and_removes_both(two_clusters: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compose_layer, "inventory", lambda ctx: compose_layer.Inventory())
    would = destroy.preview(two_clusters.ctx)
    assert would["cluster_prd"].startswith("cluster: gitopslab-prd (k3d, 2 nodes")
    result = destroy.destroy(two_clusters.ctx)
    assert "cluster gitopslab-prd: deleted; cluster: deleted" in result["notes"]
    assert two_clusters.world.clusters == {}


def test_destroy_leaves_a_production_cluster_without_the_labs_label(two_clusters: Lab) -> None:
    two_clusters.world.clusters["gitopslab-prd"]["config"]["options"] = {}  # someone else's, same name
    result = destroy.destroy(two_clusters.ctx)
    assert "cluster: deleted" in result["notes"]
    assert list(two_clusters.world.clusters) == ["gitopslab-prd"]


def test_status_reports_the_production_cluster(two_clusters: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status, "cluster_status", lambda ctx: ({"exists": False}, []))
    monkeypatch.setattr(compose_layer, "status", lambda ctx: [])
    prd: dict[str, Any] = status.status(two_clusters.ctx)["cluster"]["prd"]
    assert prd["cluster"] == "gitopslab-prd" and prd["running"] is True
    assert prd["kubeconfig"].endswith("kubeconfig-prd")


def test_destroy_preview_names_the_production_cluster(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(destroy, "preview", lambda ctx: {"containers": [], "volumes": [], "networks": [],
                                                         "cluster": "cluster: (none)",
                                                         "cluster_prd": "cluster: mc-prd (k3d, 2 nodes)"})
    assert main(["destroy", "--name", "mc"]) == 2  # something to remove: --yes is required
    assert "  cluster: mc-prd (k3d, 2 nodes)" in capsys.readouterr().out
