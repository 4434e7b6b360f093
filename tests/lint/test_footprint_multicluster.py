"""Issue 25: the footprint of the multicluster profile from its declared limits. The production node's
memory cap (k3d serversMemory) is counted once; prd's workloads run inside it and are listed apart,
not counted twice; the one-cluster lab is unchanged."""

from __future__ import annotations

from gitopslab.lint.footprint import profiles_footprint
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import PRD_NODE_MEMORY_MIB


def test_the_prd_node_cap_replaces_the_prd_workloads_in_the_sum() -> None:
    one = profiles_footprint(LabConfig())
    two = profiles_footprint(LabConfig(multicluster=True))
    one_objects: dict[str, int] = one["objects"]  # type: ignore[assignment]
    two_objects: dict[str, int] = two["objects"]  # type: ignore[assignment]
    prd: dict[str, int] = two["prd_cluster"]  # type: ignore[assignment]
    assert one["prd_cluster"] == {} and "Deployment/app-prd/hello-api" in one_objects
    assert set(prd) == {k for k in one_objects if k.split("/")[1].endswith("-prd")}
    assert "Deployment/app-prd/hello-api" in prd and not set(prd) & set(two_objects)
    node = "k3d node gitopslab-prd-server-0 (memory cap: k3s + prd workloads)"
    assert two_objects[node] == PRD_NODE_MEMORY_MIB * 2**20
    assert sum(prd.values()) <= two_objects[node]  # what runs there fits under the cap
    assert two["total_bytes"] == one["total_bytes"] - sum(prd.values()) + PRD_NODE_MEMORY_MIB * 2**20
