"""Names for the host (hosts-file block), for the nodes (CoreDNS NodeHosts lines) and the edge
forwarder that gives cluster services their one URL inside the lab network."""

from __future__ import annotations

from typing import Any

from gitopslab.model.topology import LABEL, Topology

BEGIN = "# BEGIN gitopslab {lab}"
END = "# END gitopslab {lab}"


def host_lines(topo: Topology) -> list[str]:
    return [f"127.0.0.1 {name}" for name in topo.hostnames]


def render_block(topo: Topology) -> str:
    """The marked block `gitopslab hosts --apply` writes (idempotent; `--remove` takes it out)."""
    return "\n".join([BEGIN.format(lab=topo.lab), *host_lines(topo), END.format(lab=topo.lab)]) + "\n"


def render_nodehosts(topo: Topology) -> str:
    """What pods resolve: `IP name` lines (k3d writes hostAliases into CoreDNS NodeHosts)."""
    return "".join(f"{ip} {name}\n" for ip, names in topo.pod_host_aliases().items() for name in names)


# Docker's embedded DNS on a user-defined network (the lab network): it knows the k3d node by name.
DOCKER_DNS = "127.0.0.11"
# How long nginx trusts an answer: a node that comes back with a new address after a Docker or laptop
# restart is followed within this many seconds.
EDGE_DNS_VALID_S = 10


def render_edge(topo: Topology, resolver: str = DOCKER_DNS, valid_s: int = EDGE_DNS_VALID_S) -> str:
    """nginx stream config: each cluster service's port on the edge forwards to the node's NodePort.

    The node is named through a variable, so nginx resolves it per connection (through `resolver`,
    cached `valid_s`) instead of once at start: a restarted node with a new address is followed,
    and the edge starts even while the node is not there yet."""
    node = f"k3d-{topo.cluster_name}-server-0"
    prd_map = (f"    map $server_port $gitopslab_prd_node {{ default k3d-{topo.prd_cluster_name}-server-0; }}\n"
               if topo.prd_cluster_name else "")
    servers = []
    for port, upstream in topo.edge_routes("$gitopslab_node", "$gitopslab_prd_node"):
        servers.append(f"    server {{\n        listen {port};\n        proxy_pass {upstream};\n    }}")
    body = "\n".join(servers)
    return (
        "# edge forwarder (generated): one URL per cluster service inside the lab network\n"
        "worker_processes 1;\nevents { worker_connections 512; }\n"
        "stream {\n"
        f"    resolver {resolver} valid={valid_s}s ipv6=off;\n"
        "    resolver_timeout 5s;\n"
        f"    map $server_port $gitopslab_node {{ default {node}; }}\n"
        f"{prd_map}"
        f"{body}\n}}\n"
    )


# k3s rewrites the `coredns` ConfigMap (NodeHosts included) from its own manifest when a node starts,
# and k3d adds the lab's names to NodeHosts only on `cluster create/start` (k3d#1221, #1112): after a
# Docker or laptop restart pods lose them. k3s's Corefile imports /etc/coredns/custom/*.server from the
# optional ConfigMap `coredns-custom`, which k3s never touches: the lab's names live there.
COREDNS_CUSTOM = ("configmap", "coredns-custom", "kube-system")
COREDNS_SERVER_KEY = "gitopslab.server"


def render_coredns_server(topo: Topology) -> str:
    """A CoreDNS server block answering every lab name (its own zone, so it wins over `.`)."""
    pairs = [(ip, name) for ip, names in topo.pod_host_aliases().items() for name in sorted(names)]
    zones = " ".join(f"{name}:53" for _, name in sorted(pairs, key=lambda p: p[1]))
    entries = "".join(f"        {ip} {name}\n" for ip, name in sorted(pairs, key=lambda p: p[1]))
    return f"{zones} {{\n    errors\n    hosts {{\n{entries}        ttl 30\n    }}\n}}\n"


def coredns_custom(topo: Topology) -> dict[str, Any]:
    kind, name, namespace = COREDNS_CUSTOM
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": {LABEL: topo.lab}},
            "data": {COREDNS_SERVER_KEY: render_coredns_server(topo)}}
