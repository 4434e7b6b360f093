"""The observability profile (seed 003): what it adds to the lab, for `up`, the footprint and docs.

The profile's objects live in the GitOps tree:
    gitops/base/platform/monitoring/              Argo CD Applications the profile adds (namespace argocd)
        kube-prometheus-stack.yaml                chart (pinned in versions.py) + values.yaml ($values)
        alert-receiver-app.yaml -> alert-receiver/  webhook receiver for Alertmanager (monitoring)
        hello-api-observability-app.yaml -> gitops/base/app/hello-api-observability/  (app-dev)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MONITORING_DIR = Path("base/platform/monitoring")
APP_DIR = Path("base/app/hello-api-observability")
# Argo CD Applications the profile adds, in sync order.
APPLICATIONS = ("kube-prometheus-stack", "alert-receiver", "hello-api-observability")
# Offline, where the lab's Gitea serves the chart (the seeded org's Helm registry; stack/gitea/charts.py).
LAB_HELM_PATH = "/api/packages/platform/helm"
# Secret `up` must create in `monitoring` before Grafana starts (values.yaml grafana.admin).
GRAFANA_ADMIN_SECRET = ("monitoring", "grafana-admin", "admin-user", "admin-password")


def gitops_root() -> Path:
    """The GitOps tree shipped with gitopslab (gitopslab/resources.py finds it)."""
    from gitopslab.resources import content_path

    return content_path("gitops")


def values_path(root: Path | None = None) -> Path:
    """The chart's values file in the GitOps tree (the Application's `$values` source)."""
    return (root or gitops_root()) / MONITORING_DIR / "values.yaml"


def chart_values(root: Path | None = None) -> dict[str, Any]:
    return yaml.safe_load(values_path(root).read_text(encoding="utf-8"))


def _mib(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix, factor in sorted(units.items(), key=lambda kv: -len(kv[0])):
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    return float(quantity) / 2**20


def _limits(node: Any) -> list[str]:
    """Every resources.limits.memory under `node`."""
    found: list[str] = []
    if isinstance(node, dict):
        mem = node.get("resources", {}).get("limits", {}).get("memory") if isinstance(node.get("resources"), dict) else None
        if mem:
            found.append(str(mem))
        for key, value in node.items():
            if key != "resources":
                found += _limits(value)
    elif isinstance(node, list):
        for item in node:
            found += _limits(item)
    return found


def chart_memory_mib(root: Path | None = None) -> int:
    """kube-prometheus-stack's memory limits from the lab's values (its pods are not in the tree)."""
    return round(sum(_mib(q) for q in _limits(chart_values(root or gitops_root()))))


def memory_limit_mib(root: Path | None = None) -> int:
    """The profile's memory limits summed (chart values + the receiver), for the printed footprint.
    node-exporter runs once per node; the lab has one node (two with the GPU agent: add it once more)."""
    root = root or gitops_root()
    total = sum(_mib(q) for q in _limits(chart_values(root)))
    deployment = yaml.safe_load((root / MONITORING_DIR / "alert-receiver" / "deployment.yaml").read_text(encoding="utf-8"))
    total += sum(_mib(q) for q in _limits(deployment))
    return round(total)
