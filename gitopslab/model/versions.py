"""Every pinned version of gitopslab: images, manifests, charts and tools. The one place to bump.

Images can be overridden per lab through configuration (`images:` in gitopslab.yaml); tools are taken
from PATH when a supported version is there, else downloaded from the pinned release.

Beside every pin is the upstream release it is, as data a test reads (IMAGE_PINS[role].release,
RELEASES, ToolPin.release; a REAL_STACK program is the release its image pin names), so a tag that no
upstream release lists is caught in review, not on a laptop that cannot pull it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImagePin:
    """One container image: the exact reference, and the upstream release that tag is (and where it is
    listed), so a reviewer can check the pin against upstream without guessing."""

    ref: str
    release: str


# Container images, by the role they play in the lab (see contracts/FACTS.md "Component images").
# Checked against the upstream release lists on 2026-12-01.
IMAGE_PINS: dict[str, ImagePin] = {
    "gitea": ImagePin("docker.io/gitea/gitea:1.26.4",
                      "gitea v1.26.4 release (go-gitea/gitea tag v1.26.4, 2026-06-21)"),
    "woodpecker-server": ImagePin("docker.io/woodpeckerci/woodpecker-server:v3.17.0",
                                  "woodpecker v3.17.0 release (woodpecker-ci/woodpecker tag v3.17.0; images tagged "
                                  "with the git tag)"),
    "woodpecker-agent": ImagePin("docker.io/woodpeckerci/woodpecker-agent:v3.17.0",
                                 "woodpecker v3.17.0 release (same tag as the server)"),
    "registry": ImagePin("docker.io/library/registry:3.1.2",
                         "distribution v3.1.2 release (distribution/distribution tag v3.1.2, 2026-09-24; Docker "
                         "official image registry:3.1.2)"),
    # Forwards the cluster's NodePorts into the lab network so cluster services keep one URL everywhere.
    "edge": ImagePin("docker.io/library/nginx:1.29.3-alpine",
                     "nginx 1.29.3 mainline release, Docker official image (published 2025-10-28)"),
    "k3s": ImagePin("docker.io/rancher/k3s:v1.35.5-k3s1",
                    "k3s v1.35.5+k3s1 release (Kubernetes v1.35.5; the image tag writes '+' as '-')"),
    "k3s-cuda-base": ImagePin("nvcr.io/nvidia/cuda:12.8.1-base-ubuntu22.04",
                              "CUDA 12.8.1 base image on Ubuntu 22.04 (NVIDIA NGC cuda repository)"),
    "minio": ImagePin("docker.io/pgsty/silo:RELEASE.2026-09-16T00-00-00Z",
                      "silo RELEASE.2026-09-16T00-00-00Z release (pgsty's maintained MinIO fork, FACTS.md)"),
    "mlflow": ImagePin("ghcr.io/mlflow/mlflow:v3.17.2-full",
                       "mlflow v3.17.2 release, -full variant (published for every release from v3.9.0, "
                       "mlflow docker/README.md); the same version as the pipeline's mlflow-skinny"),
    "dashboard": ImagePin("ghcr.io/headlamp-k8s/headlamp:v0.45.0",
                          "headlamp v0.45.0 release (kubernetes-sigs/headlamp tag v0.45.0, 2026-08-21)"),
    "kaniko": ImagePin("docker.io/woodpeckerci/plugin-kaniko:2.3.1",
                       "plugin-kaniko 2.3.1 release (woodpecker-ci/plugin-kaniko tag 2.3.1, 2026-04-04)"),
    "trivy": ImagePin("docker.io/aquasec/trivy:0.74.0",
                      "trivy v0.74.0 release (aquasecurity/trivy tag v0.74.0, 2026-08-14)"),
    "python": ImagePin("docker.io/library/python:3.12-slim-bookworm",
                       "python 3.12 release series, Docker official image (a floating tag that follows 3.12 "
                       "patch releases: 3.12.14 in 2026-08)"),
    # Woodpecker's clone step. v3.17.0's own default (shared/constant/constant.go DefaultClonePlugin),
    # set explicitly (WOODPECKER_DEFAULT_CLONE_PLUGIN) so an offline bundle or a mirror can carry it.
    "clone": ImagePin("docker.io/woodpeckerci/plugin-git:2.9.2",
                      "plugin-git 2.9.2 release (woodpecker-ci/plugin-git tag 2.9.2, 2026-05-28)"),
    "alpine-git": ImagePin("docker.io/alpine/git:v2.49.1",
                           "git 2.49.1 release as packaged by alpine-docker/git (tags are v<git version>)"),
    "nvidia-device-plugin": ImagePin("nvcr.io/nvidia/k8s-device-plugin:v0.20.0",
                                     "k8s-device-plugin v0.20.0 release (NVIDIA/k8s-device-plugin tag v0.20.0, "
                                     "2026-08-19)"),
    # The kserve profile (issue 27): KServe v0.20.0 in RawDeployment mode. These tags are what the release's
    # charts (charts/kserve-resources, charts/kserve-runtime-configs: `tag: ''` = the chart's appVersion)
    # and install/v0.20.0/kserve-cluster-resources.yaml name.
    "kserve-controller": ImagePin("docker.io/kserve/kserve-controller:v0.20.0",
                                  "kserve v0.20.0 release (kserve/kserve tag v0.20.0, commit 1fb78105; the "
                                  "controller built from cmd/manager)"),
    "kserve-storage-initializer": ImagePin("docker.io/kserve/storage-initializer:v0.20.0",
                                           "kserve v0.20.0 release (the init container that downloads storageUri)"),
    "kserve-sklearnserver": ImagePin("docker.io/kserve/sklearnserver:v0.20.0",
                                     "kserve v0.20.0 release (the sklearn ClusterServingRuntime's image; the "
                                     "`kserve` 0.20.0 wheel on PyPI is its server)"),
}
# Role -> image reference: what callers read (config overrides are checked against these roles).
IMAGES: dict[str, str] = {role: pin.ref for role, pin in IMAGE_PINS.items()}

ARGOCD_VERSION = "v3.6.1"  # argo-cd v3.6.1 release (built from its module by the real cluster tier)
ARGOCD_INSTALL_URL = f"https://raw.githubusercontent.com/argoproj/argo-cd/{ARGOCD_VERSION}/manifests/install.yaml"
# The k3s release's list of its system images (pause, CoreDNS, local-path, metrics-server, ...): an
# offline bundle reads it to carry them. The image tag writes the release's '+' as '-'.
K3S_IMAGES_URL = ("https://github.com/k3s-io/k3s/releases/download/"
                  + IMAGE_PINS["k3s"].ref.rsplit(":", 1)[1].replace("-k3s", "%2Bk3s") + "/k3s-images.txt")
NVIDIA_DEVICE_PLUGIN_VERSION = "v0.20.0"
NVIDIA_DEVICE_PLUGIN_URL = (
    "https://raw.githubusercontent.com/NVIDIA/k8s-device-plugin/"
    f"{NVIDIA_DEVICE_PLUGIN_VERSION}/deployments/static/nvidia-device-plugin.yml"
)
# The GPU node image is built locally (images/k3s-cuda) from the k3s and CUDA base pins above plus this
# NVIDIA Container Toolkit release (apt version string of NVIDIA's repository).
NVIDIA_CONTAINER_TOOLKIT_VERSION = "1.17.8-1"
# The Dockerfile frontend images/k3s-cuda names in its `# syntax=` line: `COPY --exclude` is generally
# available from this release on, whatever BuildKit the engine embeds.
DOCKERFILE_FRONTEND = "docker.io/docker/dockerfile:1.19.0"
K3S_CUDA_REPOSITORY = "gitopslab/k3s-cuda"
# sha256 of images/k3s-cuda/Dockerfile (first 12 hex digits), part of the node image's tag: a changed recipe
# must never reuse a node image built from the old one (tests/stack/test_node_image.py keeps it true).
K3S_CUDA_RECIPE = "4e7f3544c53d"


def k3s_cuda_tag(k3s_image: str, cuda_image: str) -> str:
    """Local tag of the CUDA-capable node image: changes whenever one of its inputs changes."""
    k3s = k3s_image.rsplit(":", 1)[-1]
    cuda = cuda_image.rsplit(":", 1)[-1].split("-", 1)[0]
    return f"{K3S_CUDA_REPOSITORY}:{k3s}-cuda{cuda}-ctk{NVIDIA_CONTAINER_TOOLKIT_VERSION}-{K3S_CUDA_RECIPE}"


HEADLAMP_CHART = ("headlamp", "0.45.0", "https://kubernetes-sigs.github.io/headlamp/")
KUBE_PROMETHEUS_STACK_CHART = (
    "kube-prometheus-stack",
    "88.5.3",
    "https://prometheus-community.github.io/helm-charts",
)
# The kserve profile: KServe's own charts of the release (published as OCI charts at ghcr.io/kserve/charts,
# the chart version is the release tag), and cert-manager for the webhook certificates. Why cert-manager:
# KServe's webhooks (the InferenceService defaulter/validator, the pod mutator that adds the storage
# initializer) need a serving certificate the API server trusts; the chart's only built-in way to make it
# is a cert-manager Issuer + Certificate (templates/common/certmanager.yaml), and the release's own
# install scripts install this cert-manager (kserve-deps.env CERT_MANAGER_VERSION). A hand-made
# certificate in Git would be a secret in Git and would expire under a long-lived lab.
KSERVE_VERSION = "v0.20.0"
KSERVE_CRD_CHART = ("kserve-crd", KSERVE_VERSION, "ghcr.io/kserve/charts")
KSERVE_RESOURCES_CHART = ("kserve-resources", KSERVE_VERSION, "ghcr.io/kserve/charts")
KSERVE_RUNTIME_CONFIGS_CHART = ("kserve-runtime-configs", KSERVE_VERSION, "ghcr.io/kserve/charts")
CERT_MANAGER_CHART = ("cert-manager", "v1.17.0", "https://charts.jetstack.io")

# The upstream release each pin above that is not an image is (tools carry theirs in ToolPin.release).
RELEASES: dict[str, str] = {
    "ARGOCD_VERSION": "argo-cd v3.6.1 release (argoproj/argo-cd tag v3.6.1, 2026-11-04; module time on the Go proxy)",
    "NVIDIA_DEVICE_PLUGIN_VERSION": "k8s-device-plugin v0.20.0 release (NVIDIA/k8s-device-plugin tag v0.20.0)",
    "NVIDIA_CONTAINER_TOOLKIT_VERSION": "nvidia-container-toolkit v1.17.8 release (NVIDIA/nvidia-container-toolkit "
                                        "tag v1.17.8, 2025-05-30; -1 is the apt package revision)",
    "DOCKERFILE_FRONTEND": "dockerfile frontend 1.19.0 release (moby/buildkit tag dockerfile/1.19.0, 2025-09-30)",
    "HEADLAMP_CHART": "headlamp chart 0.45.0 release (kubernetes-sigs/headlamp tag headlamp-helm-0.45.0, 2026-08-21)",
    "KUBE_PROMETHEUS_STACK_CHART": "kube-prometheus-stack 88.5.3 release (prometheus-community/helm-charts tag "
                                   "kube-prometheus-stack-88.5.3, 2026-08-21)",
    "KSERVE_VERSION": "kserve v0.20.0 release (kserve/kserve tag v0.20.0, commit 1fb78105; "
                      "../shared/upstream/kserve-v0.20.0.tar.gz, SOURCE_ARCHIVES['kserve'])",
    "KSERVE_CRD_CHART": "kserve-crd chart v0.20.0 (kserve/kserve tag v0.20.0, charts/kserve-crd)",
    "KSERVE_RESOURCES_CHART": "kserve-resources chart v0.20.0 (kserve/kserve tag v0.20.0, charts/kserve-resources)",
    "KSERVE_RUNTIME_CONFIGS_CHART": "kserve-runtime-configs chart v0.20.0 (kserve/kserve tag v0.20.0, "
                                    "charts/kserve-runtime-configs)",
    "CERT_MANAGER_CHART": "cert-manager v1.17.0 release (cert-manager/cert-manager tag v1.17.0; the version "
                          "kserve v0.20.0's kserve-deps.env installs)",
}


@dataclass(frozen=True)
class ToolPin:
    """One external CLI: the version we install, the oldest we accept from PATH, where releases live,
    and the sha256 of each release file we install, pinned here: a checksum fetched from the same
    place as the binary proves nothing (a mirror serves both)."""

    name: str
    version: str
    minimum: str
    # {os}/{arch}/{carch}/{version}/{exe} are filled in.
    url: str
    install_hint: str
    release: str  # the upstream release `version` is, and where it is listed
    # "os/arch" (Go spelling: linux/amd64, darwin/arm64, windows/amd64) -> sha256 of that release file.
    # A platform missing here is not downloaded: the user installs the tool themselves.
    sha256: dict[str, str] = field(default_factory=dict)


TOOLS: dict[str, ToolPin] = {
    "k3d": ToolPin(
        name="k3d",
        version="5.9.0",
        minimum="5.6.0",
        url="https://github.com/k3d-io/k3d/releases/download/v{version}/k3d-{os}-{arch}{exe}",
        install_hint="gitopslab tools install k3d   (or https://k3d.io/#installation)",
        release="k3d v5.9.0 release (k3d-io/k3d tag v5.9.0, 2026-06-02)",
        # k3d v5.9.0 release, checksums.txt (k3d-io/k3d). No windows value could be confirmed.
        sha256={
            "linux/amd64": "06d8f25bc3a971c4eb29e0ff08429b180402db0f4dec838c9eac427e296800a0",
            "linux/arm64": "03cde5cf23e6e8e67de5a039ecf26e5b85aca82fba3e5d13dadf904cd218a250",
            "darwin/amd64": "b4aabc37534f95b9c764e7823f2df923f50d57600837aa60a06266cce47db732",
            "darwin/arm64": "fe106541d5d0a3f18debcd4d432a16f8c0ce3e6ddc06f8fbb6f696a122313e00",
        },
    ),
    "kubectl": ToolPin(
        name="kubectl",
        version="1.35.5",
        minimum="1.30.0",
        url="https://dl.k8s.io/release/v{version}/bin/{os}/{arch}/kubectl{exe}",
        install_hint="gitopslab tools install kubectl   (or https://kubernetes.io/docs/tasks/tools/)",
        release="kubernetes v1.35.5 release (kubernetes/kubernetes tag v1.35.5, 2026-05-12; the k3s pin's minor)",
        # Kubernetes v1.35.5, dl.k8s.io .../bin/{os}/{arch}/kubectl.sha256. Only the linux values could
        # be confirmed from more than one source; macOS and Windows install kubectl themselves.
        sha256={
            "linux/amd64": "90f75ea6ecc9ea5633262e1c0b83a40560003b30fc94a04cb099404fcef0c224",
            "linux/arm64": "ac69e06fd6860d69786692f5af1c3a1208ed54f8366a4d97ab15c172e99765ee",
        },
    ),
    "docker-compose": ToolPin(
        name="docker-compose",
        version="2.40.3",
        minimum="2.20.0",
        url="https://github.com/docker/compose/releases/download/v{version}/docker-compose-{os}-{carch}{exe}",
        install_hint="gitopslab tools install docker-compose   (or install Docker Desktop / the compose plugin)",
        release="compose v2.40.3 release (docker/compose tag v2.40.3, 2025-10-30)",
        # docker/compose v2.40.3 release, checksums.txt (the linux and windows values are also the ones
        # the official `docker` image verifies).
        sha256={
            "linux/amd64": "dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372",
            "linux/arm64": "d26373b19e89160546d15407516cc59f453030d9bc5b43ba7faf16f7b4980137",
            "darwin/amd64": "53528ecff0182546d92d7cc3f50dc78f9b387c3da68b4a3fd0cf2c48dab77133",
            "darwin/arm64": "8cd7eb5f95bacb536cc407111662e2c205d67d9abfea5dcb8400be8418db60d1",
            "windows/amd64": "4c864dd7f879dd40366e087e68a8a02cbcf018be0128867b13369898e67e1532",
        },
    ),
}


@dataclass(frozen=True)
class GoProgram:
    """One upstream program the real-stack tiers build from its Go module (scripts/real-stack/build.py).

    `version` is the upstream release tag; where an image pin above names the same release, the image
    built from this program carries that pin's exact name, so compose, pipelines and manifests run unchanged.
    """

    module: str
    version: str
    package: str  # the main package inside the module, relative to its root ("." for the root)
    # "install": `go install MODULE/PACKAGE@VERSION`; "copy": the module's go.mod has replace lines, so it is
    # built in a writable copy of the downloaded module; "wrapper": its replace lines point at folders of
    # its own repository (not in the module zip), so a wrapper module pins those at `relative_version`.
    # `package` may name several main packages, separated by spaces.
    method: str = "install"
    relative_version: str = ""
    nosumdb: str = ""  # module patterns the checksum database does not list (GONOSUMDB), said in the docs
    cgo: bool = False
    tags: str = ""
    goexperiment: str = ""  # what the upstream release build sets (trivy: jsonv2)
    toolchain: str = ""  # GOTOOLCHAIN when the module needs a newer Go than the machine's (fetched via the proxy)
    # method "archive": built from SOURCE_ARCHIVES[archive] (the proxy refuses the module), not from the proxy.
    archive: str = ""


@dataclass(frozen=True)
class SourceArchive:
    """A `git archive` of one upstream tag, for programs whose modules the Go module proxy refuses.

    The file lives in the folder of upstream archives ($GITOPSLAB_UPSTREAM, default ../shared/upstream beside
    the checkout); scripts/real-stack/build.py refuses it unless its sha256 is the one pinned here.
    """

    file: str
    version: str
    sha256: str
    release: str  # the upstream tag and commit the archive is


# The forge tier (issue 13). Woodpecker (server, agent, plugin-git) and the kaniko fork are not served by
# the Go module proxy these machines reach (403 / "not available"): they are built from SOURCE_ARCHIVES.
REAL_STACK: dict[str, GoProgram] = {
    # gitea v1.26.4 release (go.mod has replace lines)
    "gitea": GoProgram("code.gitea.io/gitea", "v1.26.4", ".", method="copy", cgo=True,
                       tags="sqlite sqlite_unlock_notify"),
    # distribution v3.1.2 release (tag refs/tags/v3.1.2, 2026-09-24, as the Go module proxy records it; the
    # `registry` image's program)
    "registry": GoProgram("github.com/distribution/distribution/v3", "v3.1.2", "cmd/registry"),
    # trivy v0.74.0 release (the scan step's image)
    "trivy": GoProgram("github.com/aquasecurity/trivy", "v0.74.0", "cmd/trivy", goexperiment="jsonv2"),
    # The cluster tier (issue 14): a control plane at the Kubernetes release the k3s pin runs (v1.35.5).
    # kubernetes v1.35.5 release; its staging modules are the matching k8s.io/* v0.35.5 releases.
    # sum.golang.org answers 404 for k8s.io/mount-utils v0.35.5 here, so k8s.io/* is taken from the proxy unchecked.
    "kubernetes": GoProgram("k8s.io/kubernetes", "v1.35.5",
                            "cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubectl",
                            method="wrapper", relative_version="v0.35.5", nosumdb="k8s.io"),
    # etcd v3.7.3 release (server/v3 replaces ../api, ../client/... of the same release)
    "etcd": GoProgram("go.etcd.io/etcd/server/v3", "v3.7.3", ".", method="wrapper", relative_version="v3.7.3"),
    # The S3 store's admin API (users and policies per consumer, stack/s3_users.py). minio/minio went
    # source-only and its repository was archived in 2026 (FACTS.md); the Go module proxy lists one version,
    # its last commit (2026-02-12). The lab runs the silo fork (IMAGE_PINS["minio"]), which keeps MinIO's
    # admin API; the tests drive this build of the original.
    "minio-upstream": GoProgram("github.com/minio/minio", "v0.0.0-20260212201848-7aac2a2c5b7c", "."),
    # kwok v0.8.0 release
    "kwok": GoProgram("sigs.k8s.io/kwok", "v0.8.0", "cmd/kwok"),
    # helm v4.3.1: what Argo CD v3.6.1 ships (its hack/tool-versions.sh). It ships kustomize v5.8.3, which
    # cannot be built here (its k8s.io/kube-openapi pseudo-version: proxy 403); v5.8.1 is Argo CD v3.5.x's.
    "kustomize": GoProgram("sigs.k8s.io/kustomize/kustomize/v5", "v5.8.1", "."),
    "helm": GoProgram("helm.sh/helm/v4", "v4.3.1", "cmd/helm"),
    # Argo CD: the ARGOCD_VERSION release above. v3.5.x cannot be built from the proxy: its go.mod replaces the
    # nested gitops-engine module with ./gitops-engine, absent from the zip, and the proxy refuses that path at
    # any commit (403). From v3.6.0 gitops-engine/v3 is a tagged module of the same release.
    "argocd": GoProgram("github.com/argoproj/argo-cd/v3", ARGOCD_VERSION, "cmd", method="wrapper",
                        relative_version=ARGOCD_VERSION, toolchain="go1.27.3"),
    # Issue 28: Woodpecker and its plugins from SOURCE_ARCHIVES (the proxy refuses go.woodpecker-ci.org).
    # woodpecker v3.17.0 release: server, agent and CLI (the woodpecker-server/-agent image pins' release)
    "woodpecker": GoProgram("go.woodpecker-ci.org/woodpecker/v3", "v3.17.0", "cmd/server cmd/agent cmd/cli",
                            method="archive", archive="woodpecker"),
    # plugin-git 2.9.2 release (the `clone` image pin's release)
    "plugin-git": GoProgram("github.com/woodpecker-ci/plugin-git", "2.9.2", ".", method="archive",
                            archive="plugin-git"),
    # kaniko v1.27.2 release of the osscontainertools fork: the executor plugin-kaniko 2.3.1 is built FROM
    # (docker.io/martizih/kaniko:v1.27.2-debug); the `kaniko` image pin names plugin-kaniko's release.
    "kaniko-executor": GoProgram("github.com/osscontainertools/kaniko", "v1.27.2", "cmd/executor",
                                 method="archive", archive="kaniko"),
    # Issue 27: the KServe controller (cmd/manager) of the kserve v0.20.0 release, from SOURCE_ARCHIVES['kserve']
    # (the proxy refuses github.com/kserve/kserve); the `kserve-controller` image pin's release.
    "kserve-controller": GoProgram("github.com/kserve/kserve", KSERVE_VERSION, "cmd/manager", method="archive",
                                   archive="kserve"),
}

# sha256 of each upstream source archive (../shared/upstream/README.md lists the same values).
SOURCE_ARCHIVES: dict[str, SourceArchive] = {
    "woodpecker": SourceArchive("woodpecker-v3.17.0.tar.gz", "v3.17.0",
                                "853604e27bc0ac942974b3a08f16f0dd1d2052065101b54f39e96c47b598d3bd",
                                "woodpecker v3.17.0 release (woodpecker-ci/woodpecker tag v3.17.0, commit b6e16d5a)"),
    # Woodpecker's src.techknowlogick.com/xormigrate, whose vanity path the proxy refuses.
    "xormigrate": SourceArchive("xormigrate-v1.7.1.tar.gz", "v1.7.1",
                                "a5b7653554391a3cf223fa4620c5945a327de3ffe2819bad97bf2fa41189d7a3",
                                "xormigrate v1.7.1 release (techknowlogick/xormigrate tag v1.7.1, commit ffb77fe8)"),
    "plugin-git": SourceArchive("plugin-git-2.9.2.tar.gz", "2.9.2",
                                "22fddcb2e5e048cc277ce076dbdd8c522cc0938fece6923bd3f3e23a194be4c5",
                                "plugin-git 2.9.2 release (woodpecker-ci/plugin-git tag 2.9.2, commit f1f724f6)"),
    "plugin-kaniko": SourceArchive("plugin-kaniko-2.3.1.tar.gz", "2.3.1",
                                   "a9f35721d4f559b3380c35b551ce548210282e031f1091951387c3dec0402ed0",
                                   "plugin-kaniko 2.3.1 release (woodpecker-ci/plugin-kaniko tag 2.3.1, commit 0ea18ef9)"),
    "kaniko": SourceArchive("kaniko-v1.27.2.tar.gz", "v1.27.2",
                            "7a39ac7f5977f076d28506f0e7c618349d4734bd8002be9cfe0ee14d67718b95",
                            "kaniko v1.27.2 release (osscontainertools/kaniko tag v1.27.2, commit 8d4df1dc)"),
    "kserve": SourceArchive("kserve-v0.20.0.tar.gz", KSERVE_VERSION,
                            "68cf2e209087e620fa170ab6d61b29e988c77d9cbaf4aa96cad4b11a52f6a37c",
                            "kserve v0.20.0 release (kserve/kserve tag v0.20.0, commit 1fb78105)"),
}
