"""The one model of the lab: services, names, ports, addresses and the three horizons.

Every artifact (compose environment, k3d config, registries.yaml, host entries, CoreDNS entries, the
Argo CD repo URL, doctor's checks, the URL table) derives from `Topology`, never from retyped values.

Horizons: one URL per service (`Service.url`) is valid
  * on the host   -> the name resolves to 127.0.0.1 (hosts file where `*.localhost` does not) and the
                     port is published on 127.0.0.1 by compose (compose services) or by k3d's
                     load balancer (cluster services, host port -> NodePort);
  * in the lab network (CI step containers) -> a network alias on the compose service, or on the
                     `edge` forwarder for cluster services (edge listens on the same port and forwards
                     to the node's NodePort);
  * in pods       -> k3d hostAliases map the name to the service's fixed address on the lab network
                     (the compose container, or the edge for cluster services).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

from gitopslab.model.config import LabConfig

Layer = Literal["compose", "cluster"]
# Which k3d cluster a cluster service runs in: the first one ("dev": Argo CD, dev and, without the
# multicluster profile, prd) or the multicluster profile's production cluster.
Cluster = Literal["dev", "prd"]
LABEL = "io.gitopslab.lab"
# The port kube-apiserver listens on inside a k3s server node.
K3S_API_PORT = 6443
# The multicluster profile's production node may use this much memory (k3d's serversMemory: the container
# is capped and its kubelet sees that much): k3s itself (~0.6 GiB), CoreDNS and the prd workloads.
PRD_NODE_MEMORY_MIB = 1536


@dataclass(frozen=True)
class Service:
    key: str
    title: str
    layer: Layer
    hostname: str
    port: int
    container_port: int
    health_path: str
    profile: str = "core"
    node_port: int | None = None
    namespace: str | None = None
    k8s_service: str | None = None
    ip: str | None = None
    # Woodpecker and Gitea serve web pages; the registry and S3 API are not browsed.
    browsable: bool = True
    cluster: Cluster = "dev"

    @property
    def url(self) -> str:
        return f"http://{self.hostname}:{self.port}"

    @property
    def address(self) -> str:
        return f"{self.hostname}:{self.port}"

    @property
    def in_cluster_url(self) -> str | None:
        """The Kubernetes Service address (cluster services only), e.g. for readiness inside the cluster."""
        if self.layer != "cluster" or not self.k8s_service:
            return None
        return f"http://{self.k8s_service}.{self.namespace}.svc:{self.container_port}"


@dataclass(frozen=True)
class Topology:
    lab: str
    network: str
    subnet: str
    dynamic_range: str
    gateway: str
    services: tuple[Service, ...]
    edge_ip: str
    kube_api_port: int
    cluster_name: str
    labels: dict[str, str] = field(default_factory=dict)
    # The multicluster profile's production cluster ("" without it): k3d name, API name and host port.
    prd_cluster_name: str = ""
    prd_api_hostname: str = ""
    prd_kube_api_port: int = 0

    @property
    def clusters(self) -> list[str]:
        """The lab's k3d clusters, the first one first."""
        return [self.cluster_name] + ([self.prd_cluster_name] if self.prd_cluster_name else [])

    @property
    def prd_api_url(self) -> str:
        """The production cluster's API, one URL on the host (k3d's load balancer) and in pods (the edge)."""
        return f"https://{self.prd_api_hostname}:{self.prd_kube_api_port}" if self.prd_cluster_name else ""

    def in_cluster(self, cluster: Cluster) -> list[Service]:
        return [s for s in self.by_layer("cluster") if s.cluster == cluster]

    def service(self, key: str) -> Service:
        for svc in self.services:
            if svc.key == key:
                return svc
        raise KeyError(key)

    def by_layer(self, layer: Layer) -> list[Service]:
        return [s for s in self.services if s.layer == layer]

    @property
    def hostnames(self) -> list[str]:
        return sorted({s.hostname for s in self.services} | ({self.prd_api_hostname} if self.prd_cluster_name else set()))

    @property
    def registry(self) -> str:
        """The image name prefix that works on the host, in CI steps and on the nodes."""
        return self.service("registry").address

    @property
    def host_ports(self) -> dict[int, str]:
        ports = {s.port: s.key for s in self.services}
        ports[self.kube_api_port] = "kube-api"
        if self.prd_cluster_name:
            ports[self.prd_kube_api_port] = "kube-api-prd"
        return ports

    def pod_host_aliases(self) -> dict[str, list[str]]:
        """IP -> names, for k3d hostAliases / CoreDNS NodeHosts: how pods reach the lab's names."""
        aliases: dict[str, list[str]] = {}
        for svc in self.services:
            ip = svc.ip if svc.layer == "compose" else self.edge_ip
            assert ip is not None
            names = aliases.setdefault(ip, [])
            if svc.hostname not in names:
                names.append(svc.hostname)
        if self.prd_cluster_name:  # Argo CD (in the first cluster) reaches the production API through the edge
            aliases.setdefault(self.edge_ip, []).append(self.prd_api_hostname)
        return aliases

    def edge_routes(self, node: str, prd_node: str = "") -> list[tuple[int, str]]:
        """(listen port, upstream) pairs the edge forwarder serves for cluster services: each to the NodePort
        of its own cluster's node, and the production cluster's API to its server."""
        routes = [(s.port, f"{node}:{s.node_port}") for s in self.in_cluster("dev") if s.node_port]
        if self.prd_cluster_name:
            routes += [(s.port, f"{prd_node}:{s.node_port}") for s in self.in_cluster("prd") if s.node_port]
            routes.append((self.prd_kube_api_port, f"{prd_node}:{K3S_API_PORT}"))
        return routes


# Where the GitOps tree deploys each cluster service (see gitops/ and docs/ARCHITECTURE.md).
CLUSTER_PLACEMENT: dict[str, tuple[str, str]] = {
    "argocd": ("argocd", "argocd-server"),
    "hello_api": ("app-dev", "hello-api"),
    "mlflow": ("ml-dev", "mlflow"),
    "minio_api": ("ml-dev", "minio"),
    "minio_console": ("ml-dev", "minio-console"),
    "dashboard": ("platform", "headlamp"),
    "grafana": ("monitoring", "kube-prometheus-stack-grafana"),
    "prometheus": ("monitoring", "kube-prometheus-stack-prometheus"),
    "alertmanager": ("monitoring", "kube-prometheus-stack-alertmanager"),
    # The kserve profile: the InferenceService iris's server, through the NodePort Service of clusters/ml-dev/models.
    "models": ("ml-dev", "iris-models"),
    "hello_api_prd": ("app-prd", "hello-api"),
}

# (key, title, layer, hostname field, container port, node port, health path, profile, browsable)
_SERVICES: list[tuple[str, str, Layer, str, int, int | None, str, str, bool]] = [
    ("gitea", "Gitea", "compose", "gitea", 0, None, "/api/healthz", "core", True),
    ("woodpecker", "Woodpecker CI", "compose", "woodpecker", 0, None, "/healthz", "core", True),
    ("registry", "Registry", "compose", "registry", 0, None, "/v2/", "core", False),
    ("argocd", "Argo CD", "cluster", "argocd", 8080, 30081, "/healthz", "core", True),
    ("hello_api", "hello-api", "cluster", "hello_api", 8080, 30888, "/health", "core", True),
    ("mlflow", "MLflow", "cluster", "mlflow", 5000, 30902, "/health", "core", True),
    ("minio_api", "MinIO API", "cluster", "minio", 9000, 30900, "/minio/health/live", "core", False),
    ("minio_console", "MinIO console", "cluster", "minio", 9001, 30901, "/", "core", True),
    ("dashboard", "Cluster dashboard (Headlamp)", "cluster", "dashboard", 4466, 32443, "/", "core", True),
    ("grafana", "Grafana", "cluster", "grafana", 3000, 30300, "/api/health", "observability", True),
    ("prometheus", "Prometheus", "cluster", "prometheus", 9090, 30909, "/-/ready", "observability", True),
    ("alertmanager", "Alertmanager", "cluster", "alertmanager", 9093, 30903, "/-/ready", "observability", True),
    # KServe's model server: v1 (/v1/models/iris:predict) and v2 (/v2/models/iris/infer) on one URL.
    ("models", "Model endpoint (KServe)", "cluster", "models", 8080, 30980, "/v2/health/ready", "kserve", True),
    # In the production cluster: the same NodePort as dev's, on another node.
    ("hello_api_prd", "hello-api (prd)", "cluster", "hello_api_prd", 8080, 30888, "/health", "multicluster", True),
]
# Services of the multicluster profile that run in the production cluster.
_PRD_SERVICES = {"hello_api_prd"}

# Fixed host numbers inside the lab subnet; dynamic addresses (k3d nodes, CI steps) come from the upper half.
_FIXED_HOSTS = {"gitea": 10, "woodpecker": 11, "registry": 12}
_EDGE_HOST = 20


def build(cfg: LabConfig) -> Topology:
    net = ipaddress.ip_network(cfg.network.subnet)
    hosts = list(net.hosts())
    upper = list(net.subnets(new_prefix=net.prefixlen + 1))[1]
    active = set(cfg.profiles)
    services = []
    for key, title, layer, host_field, cport, node_port, health, profile, browsable in _SERVICES:
        if profile not in active:
            continue
        port = getattr(cfg.ports, key)
        namespace, k8s_name = CLUSTER_PLACEMENT.get(key, (None, None))
        services.append(
            Service(
                key=key,
                title=title,
                layer=layer,
                hostname=getattr(cfg.hostnames, host_field),
                port=port,
                container_port=cport or port,
                health_path=health,
                profile=profile,
                node_port=node_port,
                namespace=namespace,
                k8s_service=k8s_name,
                ip=str(hosts[_FIXED_HOSTS[key] - 1]) if key in _FIXED_HOSTS else None,
                browsable=browsable,
                cluster="prd" if key in _PRD_SERVICES else "dev",
            )
        )
    prd = cfg.multicluster
    return Topology(
        lab=cfg.name,
        network=cfg.network.name or cfg.name,
        subnet=str(net),
        dynamic_range=str(upper),
        gateway=str(hosts[0]),
        services=tuple(services),
        edge_ip=str(hosts[_EDGE_HOST - 1]),
        kube_api_port=cfg.ports.kube_api,
        cluster_name=cfg.name,
        labels={LABEL: cfg.name},
        prd_cluster_name=prd_cluster_name(cfg.name) if prd else "",
        prd_api_hostname=cfg.hostnames.kube_api_prd if prd else "",
        prd_kube_api_port=cfg.ports.kube_api_prd if prd else 0,
    )


def prd_cluster_name(lab: str) -> str:
    """The production cluster's k3d name: the lab's name and `-prd` (k3d node names stay under 63)."""
    return f"{lab}-prd"
