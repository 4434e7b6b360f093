"""The memory the whole lab needs, for the memory preflight: the workloads' budget
(`resources.memory_gib`: the summed limits of what the GitOps tree deploys, `gitopslab render` prints
them) plus what runs outside the GitOps tree without limits. Those are allowances, not limits: upstream's
sizing guidance and typical working sets, rounded up, so an 8 GB laptop is judged by the real total."""

from __future__ import annotations

MIB = 2**20

# Outside the GitOps tree (no memory limits of their own). Keys name what is counted.
OUTSIDE_GITOPS_MIB: dict[str, int] = {
    "compose: Gitea": 300,
    "compose: Woodpecker server and agent": 200,
    "compose: registry and edge forwarder": 100,
    "compose: one pipeline step at a time (kaniko image build)": 1024,
    "k3s server node (API server, kine/sqlite, kubelet, containerd, CoreDNS, metrics-server)": 900,
    "Argo CD (application controller, repo-server, server, redis, applicationset, dex, notifications)": 900,
}


def outside_gitops_bytes() -> int:
    return sum(OUTSIDE_GITOPS_MIB.values()) * MIB


def prd_node_bytes(multicluster: bool) -> int:
    """The multicluster profile's production node: a declared cap (k3d serversMemory), not an allowance."""
    from gitopslab.model.topology import PRD_NODE_MEMORY_MIB

    return PRD_NODE_MEMORY_MIB * MIB if multicluster else 0


def lab_need_bytes(workloads_gib: float, multicluster: bool = False) -> int:
    """Workloads' budget + everything outside the GitOps tree (+ the production node's cap)."""
    return int(workloads_gib * 2**30) + outside_gitops_bytes() + prd_node_bytes(multicluster)
