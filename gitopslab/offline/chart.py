"""The observability profile's Helm chart for a room without the chart repository: the pinned chart's
package (checked against the digest its repository's index lists) and the images it runs, read from the
chart rendered with the lab's own values, so the bundle carries exactly what Argo CD will deploy.
The kserve profile's charts travel the same way (package_file, download with their pin; KServe's OCI
charts through offline/oci_chart.py).

    chart_file()            kube-prometheus-stack-<version>.tgz: the package, as the bundle carries it
    package_file(pin)       <name>-<version>.tgz of any chart pin (name, version, repository)
    IMAGES_FILE             the images the rendered chart runs, one per line (the node needs them)
    download(...)           the package from the repository's index.yaml, its digest checked
    images(rendered)        every container image in the rendered chart, the operator's reloader included

Offline, `up` uploads the package to the lab's Gitea Helm registry (stack/gitea/charts.py) and the GitOps
tree's Application reads it from there (render/gitops_tree.localizations).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml

from gitopslab.errors import LabError
from gitopslab.model.versions import KUBE_PROMETHEUS_STACK_CHART
from gitopslab.offline.images import container_images

IMAGES_FILE = "kube-prometheus-stack-images.txt"
RELEASE = "kube-prometheus-stack"  # the Application's helm.releaseName
NAMESPACE = "monitoring"  # the Application's destination
# The operator starts every Prometheus and Alertmanager with this sidecar, named only in its arguments.
_IMAGE_ARG = re.compile(r"^--[\w-]*config-reloader=(?P<image>\S+/\S+:\S+)$")


def chart_file() -> str:
    return package_file(KUBE_PROMETHEUS_STACK_CHART)


def package_file(pin: tuple[str, str, str]) -> str:
    name, version, _ = pin
    return f"{name}-{version}.tgz"


def kserve_packages(cfg: Any) -> dict[str, tuple[str, str, str]]:
    """With the kserve profile, the package file of each of its charts -> the chart's pin (model/kserve.py)."""
    if not getattr(cfg, "kserve", False):
        return {}
    from gitopslab.model.kserve import charts

    return {package_file(pin): pin for pin in charts()}


def is_oci(repo: str) -> bool:
    """A repository named without a scheme is an OCI registry path (Argo CD's and helm's reading)."""
    return "://" not in repo


def download(get: Callable[[str], bytes], dest: Path, repo_url: str | None = None,
             pin: tuple[str, str, str] = KUBE_PROMETHEUS_STACK_CHART) -> str:
    """The pinned chart's package into `dest`, found through `repo_url`'s index.yaml; its sha256.
    `get(url) -> bytes` reads one URL (the bundle's fetcher, with the lab's proxy)."""
    name, version, default_repo = pin
    repo = (repo_url or default_repo).rstrip("/") + "/"
    index = yaml.safe_load(get(urljoin(repo, "index.yaml"))) or {}
    listed_versions = (index.get("entries") or {}).get(name) or []
    entry = next((e for e in listed_versions if str(e.get("version")) == version), None)
    if entry is None or not entry.get("urls"):
        raise LabError(f"the Helm repository {repo} does not list {name} {version}",
                       hint=f"check the repository pinned for {name} in versions.py ({repo}index.yaml)")
    url = urljoin(repo, str(entry["urls"][0]))
    content = get(url)
    digest = hashlib.sha256(content).hexdigest()
    listed = str(entry.get("digest") or "")
    if listed and listed != digest:
        raise LabError(f"{url} has sha256 {digest}, but {repo}index.yaml lists {listed}",
                       hint="the download was changed on the way (a proxy?) or the repository is inconsistent; "
                            "run `bundle save` again")
    dest.write_bytes(content)
    return digest


def images(rendered: str) -> list[str]:
    """Every image in the chart rendered with the lab's values: containers' and init containers'
    `image:`, the Prometheus and Alertmanager objects' `spec.image`, the operator's reloader argument."""
    found = container_images(rendered)
    for doc in yaml.safe_load_all(rendered):
        found.extend(_reloaders(doc))
    return list(dict.fromkeys(found))


def _reloaders(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [image for value in node.values() for image in _reloaders(value)]
    if isinstance(node, list):
        return [image for item in node for image in _reloaders(item)]
    found = _IMAGE_ARG.match(node) if isinstance(node, str) else None
    return [found.group("image")] if found else []


def kube_version(k3s_image: str) -> str:
    """The Kubernetes release a k3s image runs (`rancher/k3s:v1.35.5-k3s1` -> v1.35.5): the chart's
    `Capabilities.KubeVersion`, as the lab's API server will report it to Argo CD."""
    return k3s_image.rsplit(":", 1)[-1].split("-", 1)[0]
