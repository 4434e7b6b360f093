"""The kserve profile (issue 27, seed 000's model serving): what it adds to the lab, for `up`, the footprint,
the offline bundle and docs.

The profile's objects live in the GitOps tree:
    gitops/profiles/kserve.yaml (kserve-gpu.yaml with the gpu profile) -> base/platform/kserve/
        cert-manager.yaml, kserve-crd.yaml, kserve.yaml (+ values.yaml), kserve-runtimes.yaml (+ runtimes.yaml)
        {ml,app}-{dev,prd}-models.yaml -> clusters/<team>-<env>/models/ (the InferenceService iris, the App
        team's Service in front of it)
Its charts' pods are not in the tree, so their memory limits are read from the values the tree gives them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PLATFORM_DIR = Path("base/platform/kserve")
ISVC_FILE = Path("base/ml/kserve-iris/inferenceservice.yaml")
# Where the InferenceService runs: one predictor per ML environment.
ISVC_NAMESPACES = ("ml-dev", "ml-prd")
# The images the profile's pods run (versions.py roles): the charts name them through values.yaml / runtimes.yaml.
IMAGE_ROLES = ("kserve-controller", "kserve-storage-initializer", "kserve-sklearnserver")


def _root(root: Path | None) -> Path:
    if root is not None:
        return root
    from gitopslab.resources import content_path

    return content_path("gitops")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _limit(resources: dict[str, Any] | None) -> str | None:
    return ((resources or {}).get("limits") or {}).get("memory")


def memory_limits(root: Path | None = None) -> dict[str, str]:
    """What the profile's pods may use, `Kind/namespace/name (source)` -> memory limit, from the tree."""
    from gitopslab.model.versions import CERT_MANAGER_CHART

    base = _root(root)
    cm = _load(base / PLATFORM_DIR / "cert-manager.yaml")["spec"]["source"]["helm"]["valuesObject"]
    ks = _load(base / PLATFORM_DIR / "values.yaml")["kserve"]["controller"]
    isvc = _load(base / ISVC_FILE)["spec"]["predictor"]["model"]
    out = {
        f"Deployment/cert-manager/cert-manager (chart {CERT_MANAGER_CHART[1]})": _limit(cm.get("resources")),
        "Deployment/cert-manager/cert-manager-webhook": _limit((cm.get("webhook") or {}).get("resources")),
        "Deployment/cert-manager/cert-manager-cainjector": _limit((cm.get("cainjector") or {}).get("resources")),
        "Deployment/kserve/kserve-controller-manager (values.yaml)": _limit(ks.get("resources")),
    }
    for ns in ISVC_NAMESPACES:
        out[f"InferenceService/{ns}/iris (predictor)"] = _limit(isvc.get("resources"))
    missing = [k for k, v in out.items() if not v]
    if missing:
        raise ValueError(f"the kserve profile's tree sets no memory limit for {', '.join(missing)}")
    return {k: str(v) for k, v in out.items()}


# cert-manager's chart (CERT_MANAGER_CHART) runs these three images at its version (startupapicheck is off).
CERT_MANAGER_IMAGES = ("cert-manager-controller", "cert-manager-webhook", "cert-manager-cainjector")


def images(cfg: Any) -> dict[str, str]:
    """image -> who runs it, for an offline bundle: KServe's pinned roles and cert-manager's images at the
    chart's version. The pins, not `images:` overrides: the chart values in the GitOps tree name the pins
    (an override of these roles does not reach the cluster)."""
    from gitopslab.model.versions import CERT_MANAGER_CHART, IMAGES

    del cfg  # the signature stays cfg-shaped like the other needs
    out = {IMAGES[role]: f"kserve profile ({role})" for role in IMAGE_ROLES}
    for name in CERT_MANAGER_IMAGES:
        out[f"quay.io/jetstack/{name}:{CERT_MANAGER_CHART[1]}"] = f"kserve profile (cert-manager chart {CERT_MANAGER_CHART[1]})"
    return out


def charts() -> tuple[tuple[str, str, str], ...]:
    """The profile's chart pins (name, version, repository), in the order Argo CD syncs them: cert-manager,
    KServe's CRDs, its controller, its runtimes. An offline bundle carries each one's package."""
    from gitopslab.model.versions import (
        CERT_MANAGER_CHART,
        KSERVE_CRD_CHART,
        KSERVE_RESOURCES_CHART,
        KSERVE_RUNTIME_CONFIGS_CHART,
    )

    return (CERT_MANAGER_CHART, KSERVE_CRD_CHART, KSERVE_RESOURCES_CHART, KSERVE_RUNTIME_CONFIGS_CHART)


def chart_repositories() -> tuple[str, ...]:
    """The repositories the profile's Applications name (KServe's OCI one serves its three charts)."""
    return tuple(dict.fromkeys(repo for _, _, repo in charts()))
