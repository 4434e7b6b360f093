"""Names for the host (hosts-file block), for the nodes (CoreDNS NodeHosts lines) and the edge
forwarder that gives cluster services their one URL inside the lab network."""

from __future__ import annotations

from gitopslab.topology import Topology

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


def render_edge(topo: Topology) -> str:
    """nginx stream config: each cluster service's port on the edge forwards to the node's NodePort."""
    node = f"k3d-{topo.cluster_name}-server-0"
    servers = []
    for port, upstream in topo.edge_routes(node):
        servers.append(f"    server {{\n        listen {port};\n        proxy_pass {upstream};\n    }}")
    body = "\n".join(servers)
    return (
        "# edge forwarder (generated): one URL per cluster service inside the lab network\n"
        "worker_processes 1;\nevents { worker_connections 512; }\n"
        f"stream {{\n{body}\n}}\n"
    )
