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
  * offline, the observability chart's repository: the lab's Gitea Helm registry (the Application's
                     repoURL and the platform project's sourceRepos), where `up` uploads the bundle's chart
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
        swaps.append((KUBE_PROMETHEUS_STACK_CHART[2], lab_helm_repo(topo)))
    return [(old, new) for old, new in swaps if old != new]


def localize(text: str, swaps: Sequence[tuple[str, str]]) -> str:
    for old, new in swaps:
        text = text.replace(old, new)
    return text
