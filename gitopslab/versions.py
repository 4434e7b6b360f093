"""Every pinned version of gitopslab: images, manifests, charts and tools. The one place to bump.

Images can be overridden per lab through configuration (`images:` in gitopslab.yaml); tools are taken
from PATH when a supported version is there, else downloaded from the pinned release.
"""

from __future__ import annotations

from dataclasses import dataclass

# Container images, by the role they play in the lab (see contracts/FACTS.md "Component images").
IMAGES: dict[str, str] = {
    "gitea": "docker.io/gitea/gitea:1.26.4",
    "woodpecker-server": "docker.io/woodpeckerci/woodpecker-server:v3.17.0",
    "woodpecker-agent": "docker.io/woodpeckerci/woodpecker-agent:v3.17.0",
    "registry": "docker.io/library/registry:3.1.2",
    # Forwards the cluster's NodePorts into the lab network so cluster services keep one URL everywhere.
    "edge": "docker.io/library/nginx:1.29.3-alpine",
    "k3s": "docker.io/rancher/k3s:v1.35.5-k3s1",
    "k3s-cuda-base": "nvcr.io/nvidia/cuda:12.8.1-base-ubuntu22.04",
    "minio": "docker.io/pgsty/silo:RELEASE.2026-09-16T00-00-00Z",
    "mlflow": "ghcr.io/mlflow/mlflow:v3.5.1-full",
    "dashboard": "ghcr.io/headlamp-k8s/headlamp:v0.45.0",
    "kaniko": "docker.io/woodpeckerci/plugin-kaniko:2.3.1",
    "trivy": "docker.io/aquasec/trivy:0.67.2",
    "python": "docker.io/library/python:3.12-slim-bookworm",
    "alpine-git": "docker.io/alpine/git:v2.49.1",
    "nvidia-device-plugin": "nvcr.io/nvidia/k8s-device-plugin:v0.20.0",
}

ARGOCD_VERSION = "v3.5.1"
ARGOCD_INSTALL_URL = f"https://raw.githubusercontent.com/argoproj/argo-cd/{ARGOCD_VERSION}/manifests/install.yaml"
NVIDIA_DEVICE_PLUGIN_VERSION = "v0.20.0"
NVIDIA_DEVICE_PLUGIN_URL = (
    "https://raw.githubusercontent.com/NVIDIA/k8s-device-plugin/"
    f"{NVIDIA_DEVICE_PLUGIN_VERSION}/deployments/static/nvidia-device-plugin.yml"
)
# The GPU node image is built locally (images/k3s-cuda) from the k3s and CUDA base pins above plus this
# NVIDIA Container Toolkit release (apt version string of NVIDIA's repository).
NVIDIA_CONTAINER_TOOLKIT_VERSION = "1.17.8-1"
K3S_CUDA_REPOSITORY = "gitopslab/k3s-cuda"


def k3s_cuda_tag(k3s_image: str, cuda_image: str) -> str:
    """Local tag of the CUDA-capable node image: changes whenever one of its inputs changes."""
    k3s = k3s_image.rsplit(":", 1)[-1]
    cuda = cuda_image.rsplit(":", 1)[-1].split("-", 1)[0]
    return f"{K3S_CUDA_REPOSITORY}:{k3s}-cuda{cuda}-ctk{NVIDIA_CONTAINER_TOOLKIT_VERSION}"


HEADLAMP_CHART = ("headlamp", "0.45.0", "https://kubernetes-sigs.github.io/headlamp/")
KUBE_PROMETHEUS_STACK_CHART = (
    "kube-prometheus-stack",
    "88.5.3",
    "https://prometheus-community.github.io/helm-charts",
)


@dataclass(frozen=True)
class ToolPin:
    """One external CLI: the version we install, the oldest we accept from PATH, where releases live."""

    name: str
    version: str
    minimum: str
    # {os}/{arch}/{version} are filled in; checksum_url is the file the upstream project publishes beside it.
    url: str
    checksum_url: str
    install_hint: str


TOOLS: dict[str, ToolPin] = {
    "k3d": ToolPin(
        name="k3d",
        version="5.9.0",
        minimum="5.6.0",
        url="https://github.com/k3d-io/k3d/releases/download/v{version}/k3d-{os}-{arch}{exe}",
        checksum_url="https://github.com/k3d-io/k3d/releases/download/v{version}/checksums.txt",
        install_hint="gitopslab tools install k3d   (or https://k3d.io/#installation)",
    ),
    "kubectl": ToolPin(
        name="kubectl",
        version="1.35.5",
        minimum="1.30.0",
        url="https://dl.k8s.io/release/v{version}/bin/{os}/{arch}/kubectl{exe}",
        checksum_url="https://dl.k8s.io/release/v{version}/bin/{os}/{arch}/kubectl{exe}.sha256",
        install_hint="gitopslab tools install kubectl   (or https://kubernetes.io/docs/tasks/tools/)",
    ),
    "docker-compose": ToolPin(
        name="docker-compose",
        version="2.40.3",
        minimum="2.20.0",
        url="https://github.com/docker/compose/releases/download/v{version}/docker-compose-{os}-{carch}{exe}",
        checksum_url="https://github.com/docker/compose/releases/download/v{version}/docker-compose-{os}-{carch}{exe}.sha256",
        install_hint="gitopslab tools install docker-compose   (or install Docker Desktop / the compose plugin)",
    ),
}
