"""The objects gitopslab adds to a stock Argo CD install (the AppProjects and the root Application
come from the GitOps tree, gitops/projects and gitops/bootstrap, and are applied as they are):

  * argocd-cmd-params-cm  `server.insecure: "true"`: the lab is plain HTTP on 127.0.0.1
  * argocd-cm             the health check of Application objects, which Argo CD dropped in 1.8: without
                          it a child Application is Healthy as soon as it exists, and the sync waves of
                          the root app (projects -> namespaces/guardrails -> team apps) and of the
                          observability profile (chart CRDs -> rules) hold nothing back
  * argocd-server Service type NodePort, port 80 on the topology's NodePort (30081), published by k3d
  * the repository Secret for the GitOps repo in Gitea (the URL a person types, split-horizon)
  * argocd-secret `webhook.gogs.secret`: Gitea's push hooks are parsed by Argo CD's Gogs handler
  * argocd-repo-server: the lab's git config file (libcurl sends `*.localhost` to loopback:
    render/git_env.py) from the ConfigMap `gitopslab-git-config`, mounted read-only and named by
    GIT_CONFIG_GLOBAL (Argo CD overrides GIT_CONFIG_COUNT/KEY/VALUE with its built-in git config, but
    passes GIT_CONFIG_GLOBAL on untouched), and, behind a proxy, HTTP(S)_PROXY with the lab's NO_PROXY

All are partial objects applied server-side with gitopslab's field manager, so they merge into what
the install manifest made. Without `secrets` every secret value is the placeholder `<secret:NAME>`
(what `gitopslab render` writes); `up` renders them with the values from the state dir and applies
them through kubectl's stdin: they are never written to a file or committed.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import yaml

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import LABEL, Topology
from gitopslab.render.git_env import gitconfig
from gitopslab.render.proxy import proxy_env

NAMESPACE = "argocd"
REPO_SECRET = "gitopslab-repo-gitops"
GITOPS_REPO_PATH = "platform/gitops.git"
WEBHOOK_KEY = "webhook.gogs.secret"
APP_HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"
# As Argo CD's "Resource Health" page gives it (operator-manual/health.md, "Argocd App"): a child app
# reports the health its own controller computed; Progressing until it has one.
APP_HEALTH_LUA = """\
hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
"""


def _secret(name: str, secrets: Mapping[str, str] | None) -> str:
    value = (secrets or {}).get(name)
    return value if value is not None else f"<secret:{name}>"


def gitops_repo_url(topo: Topology) -> str:
    """The one URL of the GitOps repo: what a person clones, Gitea's ROOT_URL, Argo CD's repoURL."""
    return f"{topo.service('gitea').url}/{GITOPS_REPO_PATH}"


def webhook_url(topo: Topology) -> str:
    """Where Gitea posts pushes: Argo CD's /api/webhook under its lab name (the edge inside the network)."""
    return f"{topo.service('argocd').url}/api/webhook"


def _labels(topo: Topology, **extra: str) -> dict[str, str]:
    return {"app.kubernetes.io/part-of": "argocd", LABEL: topo.lab, **extra}


def cmd_params(topo: Topology) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cmd-params-cm", "namespace": NAMESPACE, "labels": _labels(topo)},
        "data": {"server.insecure": "true"},
    }


def argocd_cm(topo: Topology) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm", "namespace": NAMESPACE, "labels": _labels(topo)},
        "data": {APP_HEALTH_KEY: APP_HEALTH_LUA},
    }


def server_service(topo: Topology) -> dict[str, Any]:
    argocd = topo.service("argocd")
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "argocd-server", "namespace": NAMESPACE},
        "spec": {
            "type": "NodePort",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": argocd.container_port,
                       "nodePort": argocd.node_port}],
        },
    }


ARGOCD_GIT_USER = "gitopslab-argocd"  # gitea_rbac.ARGOCD_BOT (render stays free of the stack layer)


def repo_secret(cfg: LabConfig, topo: Topology, secrets: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": REPO_SECRET,
            "namespace": NAMESPACE,
            "labels": _labels(topo, **{"argocd.argoproj.io/secret-type": "repository"}),
        },
        "type": "Opaque",
        "stringData": {
            "type": "git",
            "url": gitops_repo_url(topo),
            # A read-only bot and its read:repository token, never the site admin's password.
            "username": ARGOCD_GIT_USER,
            "password": _secret("gitea_argocd_token", secrets),
            "insecure": "false",
        },
    }


def webhook_secret(topo: Topology, secrets: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "argocd-secret", "namespace": NAMESPACE},
        "type": "Opaque",
        "stringData": {WEBHOOK_KEY: _secret("argocd_webhook_secret", secrets)},
    }


def admin_password(bcrypt_hash: str, mtime: str) -> dict[str, Any]:
    """The admin login as `argocd account update-password` stores it: a bcrypt hash and when it changed."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "argocd-secret", "namespace": NAMESPACE},
        "type": "Opaque",
        "stringData": {"admin.password": bcrypt_hash, "admin.passwordMtime": mtime},
    }


def with_data(secret: dict[str, Any]) -> dict[str, Any]:
    """stringData -> base64 `data`, for server-side apply (stringData is write-only and not merged
    field by field)."""
    out = {k: v for k, v in secret.items() if k != "stringData"}
    out["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in secret.get("stringData", {}).items()}
    return out


REPO_SERVER = "argocd-repo-server"
GIT_CONFIG = "gitopslab-git-config"  # the ConfigMap, its volume and its key
GIT_CONFIG_DIR = "/etc/gitopslab"
# Not /etc/gitconfig: Argo CD's image keeps git-lfs's filters there (`git lfs install --system`), and a
# file mounted over it would drop them. Git reads GIT_CONFIG_GLOBAL instead of ~/.gitconfig (git >= 2.32);
# Argo CD sets HOME=/dev/null for git, but neither sets nor clears GIT_CONFIG_GLOBAL.
GIT_CONFIG_FILE = f"{GIT_CONFIG_DIR}/gitconfig"


def repo_server_git_config(topo: Topology) -> dict[str, Any]:
    """The lab's git config for the repo-server: `http.curloptResolve` for each lab git host."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": GIT_CONFIG, "namespace": NAMESPACE, "labels": _labels(topo)},
        "data": {"gitconfig": gitconfig(topo)},
    }


def repo_server_env(cfg: LabConfig, topo: Topology) -> list[dict[str, str]]:
    env = {"GIT_CONFIG_GLOBAL": GIT_CONFIG_FILE} | proxy_env(cfg, topo)
    return [{"name": k, "value": v} for k, v in env.items()]


def repo_server_volumes() -> list[dict[str, Any]]:
    return [{"name": GIT_CONFIG, "configMap": {"name": GIT_CONFIG}}]


def repo_server_mounts() -> list[dict[str, Any]]:
    # The folder, not a subPath: the kubelet refreshes a folder mount when the ConfigMap changes, and
    # git reads the file at each run, so a new address needs no restart.
    return [{"name": GIT_CONFIG, "mountPath": GIT_CONFIG_DIR, "readOnly": True}]


def repo_server(cfg: LabConfig, topo: Topology) -> dict[str, Any]:
    """A partial Deployment: server-side apply merges the variables, the volume and its mount into the
    install's by name (and drops what gitopslab applied before and no longer does: the GIT_CONFIG_*
    variables earlier versions set, which Argo CD overrode)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": REPO_SERVER, "namespace": NAMESPACE},
        # The selector and pod labels repeat the install manifest's (v3.6.1): the object must be a valid
        # Deployment on its own, and equal values are co-owned, never changed.
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": REPO_SERVER}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": REPO_SERVER}},
                "spec": {
                    "containers": [{"name": REPO_SERVER, "env": repo_server_env(cfg, topo),
                                    "volumeMounts": repo_server_mounts()}],
                    "volumes": repo_server_volumes(),
                },
            },
        },
    }


def objects(cfg: LabConfig, topo: Topology, secrets: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """File name -> object, in the order they are applied."""
    return {
        "argocd-cmd-params-cm.yaml": cmd_params(topo),
        "argocd-cm.yaml": argocd_cm(topo),
        "argocd-server-service.yaml": server_service(topo),
        "argocd-webhook-secret.yaml": webhook_secret(topo, secrets),
        "repository-secret.yaml": repo_secret(cfg, topo, secrets),
        "argocd-repo-server-gitconfig.yaml": repo_server_git_config(topo),
        "argocd-repo-server-env.yaml": repo_server(cfg, topo),
    }


def dump(obj: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(obj), sort_keys=False)


def render(cfg: LabConfig, topo: Topology) -> dict[str, str]:
    """For `gitopslab render`: relative path -> text, secret values as placeholders."""
    return {f"argocd/{name}": dump(obj) for name, obj in objects(cfg, topo).items()}
