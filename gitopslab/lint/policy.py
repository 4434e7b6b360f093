"""The tenancy model `gitopslab lint` enforces: teams, their namespaces, the control namespaces, the repos
a project may pull from, and the protected branch. One place, read by lint and by docs/TENANCY.md.

A project's team comes from the label `gitopslab.io/team`, else from its name (`platform`, `ml-*`,
`app-*`, or generally the part before the first `-`); its environment from `gitopslab.io/environment`,
else from a `-prd` / `-prod` / `-production` suffix.
"""

from __future__ import annotations

import re
from typing import Any

PLATFORM_TEAM = "platform"
# Team -> the namespace glob its projects may reach (seed 000: ML in ml-*, App in app-*).
TEAM_NAMESPACES: dict[str, str] = {"ml": "ml-*", "app": "app-*"}
# Only the platform project may deploy here (Argo CD: a project that can write to argocd is admin).
CONTROL_NAMESPACES = ("argocd", "kube-system", "kube-public", "kube-node-lease", "default", "platform")
PROTECTED_BRANCH = "main"
PROTECTED_BRANCH_ANNOTATION = "gitopslab.io/protected-branch"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_RUNTIME_CLASS = "nvidia"
ML_NAMESPACES = "ml-*"
ML_TEAM = "ml"
# Seed 000: only the ML team serves models (KServe); other teams consume them through a Service.
SERVING_KINDS: tuple[tuple[str, str], ...] = (("serving.kserve.io", "InferenceService"),)
IN_CLUSTER = "https://kubernetes.default.svc"
# Argo CD's own name for the cluster it runs in (the lab's first, dev cluster): a destination may give either.
IN_CLUSTER_NAME = "in-cluster"

# Kinds a team project must not be able to deploy: they are the platform's guardrails and access rules.
GUARDRAIL_KINDS: tuple[tuple[str, str], ...] = (
    ("", "ResourceQuota"),
    ("", "LimitRange"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("networking.k8s.io", "NetworkPolicy"),
)
# Actions a prd role must not have on applications: prd changes only through a reviewed merge to main.
PRD_WRITE_ACTIONS = ("create", "update", "delete", "override", "*")
# orphanedResources.ignore may only name objects a controller or `gitopslab up` makes (seed 004):
# Secrets by name (TLS, sealed-secret outputs, bootstrap credentials) and PVCs (data).
ORPHAN_IGNORABLE_KINDS = ("Secret", "PersistentVolumeClaim")


def default_allowed_repos(cfg: Any = None) -> list[str]:
    """The lab's Gitea org (its repos, and its Helm registry an offline lab reads charts from) and the
    named chart repositories, as Argo CD source-repo globs."""
    from gitopslab.model.config import LabConfig
    from gitopslab.model.observability import LAB_HELM_PATH
    from gitopslab.model.versions import (
        CERT_MANAGER_CHART,
        HEADLAMP_CHART,
        KSERVE_RESOURCES_CHART,
        KUBE_PROMETHEUS_STACK_CHART,
    )

    cfg = cfg or LabConfig()  # the lab's Gitea name and port (defaults unless a lab's config is given)
    gitea = f"http://{cfg.hostnames.gitea}:{cfg.ports.gitea}"
    return [
        f"{gitea}/platform/*",
        gitea + LAB_HELM_PATH,
        HEADLAMP_CHART[2],
        KUBE_PROMETHEUS_STACK_CHART[2],
        KSERVE_RESOURCES_CHART[2],  # the kserve profile's three charts share KServe's OCI repository
        CERT_MANAGER_CHART[2],
    ]


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def project_team(project: dict[str, Any]) -> str | None:
    team = _labels(project).get("gitopslab.io/team")
    if team:
        return str(team)
    name = str((project.get("metadata") or {}).get("name", ""))
    if name == PLATFORM_TEAM or name.startswith(PLATFORM_TEAM + "-"):
        return PLATFORM_TEAM
    head = name.split("-", 1)[0]
    return head if "-" in name and head else None


def project_is_prd(project: dict[str, Any]) -> bool:
    env = _labels(project).get("gitopslab.io/environment")
    if env:
        return str(env) in {"prd", "prod", "production"}
    name = str((project.get("metadata") or {}).get("name", ""))
    return bool(re.search(r"(^|-)(prd|prod|production)$", name))


def protected_branch(project: dict[str, Any]) -> str:
    annotations = (project.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(PROTECTED_BRANCH_ANNOTATION) or PROTECTED_BRANCH)
