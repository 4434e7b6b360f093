"""The GitOps tree as this lab needs it. The shipped tree names the default lab's URLs and names; a lab
with other ports or names gets them rewritten before Gitea (and Argo CD) ever see the tree.

    localizations(topo, offline)
                            [(default text, this lab's text), ...]: only what differs, in the order applied
    localize(text, swaps)   the text with every swap applied

What is rewritten, and who reads it:
  * Gitea's URL      repoURLs and sourceRepos (Argo CD clones what a person types)
  * the registry     image names the nodes pull
  * MLflow's URL     MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: since mlflow PR #20832 a state-changing
                     /ajax-api/ call from the UI is refused (403 "Cross-origin request blocked") unless its
                     Origin is listed; only localhost origins pass by default, and mlflow.localhost is none
  * MLflow's name    MLFLOW_SERVER_ALLOWED_HOSTS (`<name>:*`: the Host header check since MLflow 3.5)
  * offline, the chart repositories (the observability chart's; the kserve profile's: KServe's OCI
                     repository, cert-manager's): the lab's Gitea Helm registry (the Applications' repoURLs and
                     the platform project's sourceRepos, listed once), where `up` uploads the bundle's charts
"""

from __future__ import annotations

from collections.abc import Sequence

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import Topology, build


def lab_helm_repo(topo: Topology) -> str:
    """The Helm repository an offline lab's charts are read from: the lab's own Gitea."""
    from gitopslab.model.observability import LAB_HELM_PATH

    return topo.service("gitea").url + LAB_HELM_PATH


def localizations(topo: Topology, offline: bool = False) -> list[tuple[str, str]]:
    from gitopslab.model.versions import KUBE_PROMETHEUS_STACK_CHART

    default = build(LabConfig())
    mlflow, default_mlflow = topo.service("mlflow"), default.service("mlflow")
    swaps = [
        (default.service("gitea").url, topo.service("gitea").url),
        (default.registry, topo.registry),
        (default_mlflow.url, mlflow.url),
        (f"{default_mlflow.hostname}:*", f"{mlflow.hostname}:*"),
    ]
    if offline:  # after Gitea's own swap: this text already names this lab's Gitea
        from gitopslab.model.kserve import chart_repositories

        for repo in (KUBE_PROMETHEUS_STACK_CHART[2], *chart_repositories()):
            swaps.append((repo, lab_helm_repo(topo)))
    return [(old, new) for old, new in swaps if old != new]


def localize(text: str, swaps: Sequence[tuple[str, str]]) -> str:
    for old, new in swaps:
        text = text.replace(old, new)
    return _one_item_each(text, [new for _, new in swaps])


def _one_item_each(text: str, targets: Sequence[str]) -> str:
    """Several repositories swapped to one (offline: three chart repositories -> the lab's Gitea) would
    list it several times in the platform project's sourceRepos, which Argo CD's project API refuses
    ("source repository ... already added") when someone edits the project; keep the first `- <repo>` item."""
    repeated = {t for t in targets if targets.count(t) > 1}
    if not repeated:
        return text
    seen: set[str] = set()
    lines = []
    for line in text.splitlines(keepends=True):
        item = line.strip()
        value = item[2:].strip() if item.startswith("- ") else None
        if value in repeated:
            key = f"{len(line) - len(line.lstrip())}:{value}"
            if key in seen:
                continue
            seen.add(key)
        lines.append(line)
    return "".join(lines)
