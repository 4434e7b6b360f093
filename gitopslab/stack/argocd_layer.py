"""Argo CD on the lab's cluster: the pinned install (server-side apply), plain HTTP on NodePort 30081,
the admin password into state, the GitOps repo's credentials, the AppProjects and root Application
from the GitOps tree, Gitea's push webhook, and the wait until every app is Synced and Healthy.

Each step checks with reads only (`kubectl get`, Argo CD's API), so a second `up` changes nothing.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from gitopslab import wait as waiting
from gitopslab.clients.argocd import AppStatus, ArgoCD
from gitopslab.drivers.kube import KubeNotFound
from gitopslab.errors import LabError, NotBuiltError
from gitopslab.model.versions import ARGOCD_INSTALL_URL, ARGOCD_VERSION
from gitopslab.render import argocd as objs
from gitopslab.render.pull_policy import pull_if_not_present
from gitopslab.stack.argocd_wait import wait_synced
from gitopslab.stack.cluster_layer import ClusterLayer, WebhookRegistrar, shipped_dir
from gitopslab.stack.step import FuncStep, Step

NS = objs.NAMESPACE
SERVER = "deployment/argocd-server"
GITOPS_PARTS = ("projects", "bootstrap")


def gitops_dir(layer: ClusterLayer) -> Path:
    return layer.deps.gitops_dir or shipped_dir("gitops")


def argocd_steps(layer: ClusterLayer) -> list[Step]:
    return [
        FuncStep("argocd.install", f"Argo CD {ARGOCD_VERSION} (pinned manifest, server-side apply)",
                 lambda c: installed(layer), lambda c: install(layer)),
        FuncStep("argocd.configure", "Argo CD: plain HTTP, NodePort, webhook secret, Application health, git config",
                 lambda c: configured(layer), lambda c: configure(layer)),
        FuncStep("argocd.password", "Argo CD admin password into the lab's state",
                 lambda c: "argocd_admin_password" in layer.ctx.state.secrets(), lambda c: read_password(layer)),
        FuncStep("argocd.repository", "Argo CD credentials for the GitOps repo",
                 lambda c: repository_ready(layer), lambda c: apply_repository(layer)),
        FuncStep("argocd.bootstrap", "AppProjects and the root Application",
                 lambda c: bootstrapped(layer), lambda c: bootstrap(layer)),
        FuncStep("argocd.webhook", "Gitea push webhook to Argo CD",
                 lambda c: _registrar(layer).exists(layer.ctx, objs.webhook_url(layer.ctx.topo)),
                 lambda c: _registrar(layer).create(layer.ctx, objs.webhook_url(layer.ctx.topo),
                                                    layer.ctx.state.secret("argocd_webhook_secret"))),
        FuncStep("argocd.synced", "every Argo CD app Synced and Healthy",
                 lambda c: all_synced(layer), lambda c: wait(layer)),
    ]


# --- install ------------------------------------------------------------------------------------
def installed(layer: ClusterLayer) -> bool:
    server = layer.kubectl().exists("deployment", "argocd-server", NS)
    if not server:
        return False
    images = [c.get("image", "") for c in server["spec"]["template"]["spec"].get("containers", [])]
    available = int((server.get("status") or {}).get("availableReplicas") or 0)
    return any(i.endswith(f":{ARGOCD_VERSION}") for i in images) and available >= 1


def install(layer: ClusterLayer) -> None:
    kube = layer.kubectl()
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    kube.apply(stdin=yaml.safe_dump(namespace))
    # Server-side: the ApplicationSet CRD is over the client-side annotation limit.
    if layer.deps.argocd_manifest:
        # A local copy (offline: the bundle's), whose images are on the node: start them, pull nothing.
        text = pull_if_not_present(Path(layer.deps.argocd_manifest).read_text(encoding="utf-8"))
        kube.apply(stdin=text, namespace=NS, force_conflicts=True, field_manager="kubectl")
    else:  # online: from its release URL, pulled as the manifest says (through the room's mirror if set)
        kube.apply(path=ARGOCD_INSTALL_URL, namespace=NS, force_conflicts=True, field_manager="kubectl")
    kube.rollout_status(SERVER, NS, layer.ctx.cfg.timeouts.service_ready)


# --- configure ----------------------------------------------------------------------------------
def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def configured(layer: ClusterLayer) -> bool:
    kube, topo = layer.kubectl(), layer.ctx.topo
    cm = kube.exists("configmap", "argocd-cmd-params-cm", NS) or {}
    argocd_cm = kube.exists("configmap", "argocd-cm", NS) or {}
    svc = kube.exists("service", "argocd-server", NS) or {}
    secret = kube.exists("secret", "argocd-secret", NS) or {}
    http = [p for p in (svc.get("spec") or {}).get("ports", []) if p.get("port") == 80]
    return (
        (cm.get("data") or {}).get("server.insecure") == "true"
        and (argocd_cm.get("data") or {}).get(objs.APP_HEALTH_KEY) == objs.APP_HEALTH_LUA
        and (svc.get("spec") or {}).get("type") == "NodePort"
        and bool(http) and http[0].get("nodePort") == topo.service("argocd").node_port
        and (secret.get("data") or {}).get(objs.WEBHOOK_KEY) == _b64(layer.ctx.state.secret("argocd_webhook_secret"))
        and _repo_server_git_current(layer)
    )


def _holds(live: Any, wanted: Any) -> bool:
    """`wanted` is in `live`, where the server may have added defaults (a volume's defaultMode)."""
    if isinstance(wanted, dict):
        return isinstance(live, dict) and all(_holds(live.get(k), v) for k, v in wanted.items())
    return bool(live == wanted)


def _has_each(live: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    return all(any(_holds(item, want) for item in live) for want in wanted)


def _repo_server_git_current(layer: ClusterLayer) -> bool:
    """The repo-server has the lab's git config: its variables, the ConfigMap's volume and mount, and the
    ConfigMap with this lab's addresses; and none of the GIT_CONFIG_* variables older labs were given."""
    kube, cfg, topo = layer.kubectl(), layer.ctx.cfg, layer.ctx.topo
    deploy = kube.exists("deployment", objs.REPO_SERVER, NS) or {}
    pod = ((deploy.get("spec") or {}).get("template") or {}).get("spec") or {}
    container: dict[str, Any] = next(
        (c for c in pod.get("containers") or [] if c.get("name") == objs.REPO_SERVER), {})
    env = container.get("env") or []
    if not (_has_each(env, objs.repo_server_env(cfg, topo))
            and not any(str(e.get("name", "")).startswith("GIT_CONFIG_") and e.get("name") != "GIT_CONFIG_GLOBAL"
                        for e in env)
            and _has_each(container.get("volumeMounts") or [], objs.repo_server_mounts())
            and _has_each(pod.get("volumes") or [], objs.repo_server_volumes())):
        return False
    live = kube.exists("configmap", objs.GIT_CONFIG, NS) or {}
    return (live.get("data") or {}) == objs.repo_server_git_config(topo)["data"]


def configure(layer: ClusterLayer) -> None:
    kube, topo = layer.kubectl(), layer.ctx.topo
    cm = kube.exists("configmap", "argocd-cmd-params-cm", NS) or {}
    was_insecure = (cm.get("data") or {}).get("server.insecure") == "true"
    kube.apply(stdin=objs.dump(objs.cmd_params(topo)), force_conflicts=True)
    # Read live by the application controller: no restart needed.
    kube.apply(stdin=objs.dump(objs.argocd_cm(topo)), force_conflicts=True)
    kube.apply(stdin=objs.dump(objs.server_service(topo)), force_conflicts=True)
    secret = objs.webhook_secret(topo, layer.ctx.state.secrets())
    kube.apply(stdin=objs.dump(objs.with_data(secret)), force_conflicts=True)
    if not _repo_server_git_current(layer):  # a changed pod template rolls the repo-server once
        kube.apply(stdin=objs.dump(objs.repo_server_git_config(topo)), force_conflicts=True)
        kube.apply(stdin=objs.dump(objs.repo_server(layer.ctx.cfg, topo)), force_conflicts=True)
    if not was_insecure:  # argocd-server reads its parameters at start only
        kube.rollout_restart(SERVER, NS)
        kube.rollout_status(SERVER, NS, layer.ctx.cfg.timeouts.service_ready)


def read_password(layer: ClusterLayer) -> None:
    """argocd-server writes `argocd-initial-admin-secret` on its first start: wait for it (bounded).
    A lab that took the room's workshop password gets it here too, so every screen matches."""
    workshop = layer.ctx.cfg.credentials.workshop_password
    if workshop and layer.ctx.state.secrets().get("gitea_admin_password") == workshop:
        set_admin_password(layer, workshop)
        return
    kube, cfg = layer.kubectl(), layer.ctx.cfg

    def probe() -> tuple[bool, str]:
        secret = kube.exists("secret", "argocd-initial-admin-secret", NS)
        encoded = ((secret or {}).get("data") or {}).get("password")
        if encoded:
            layer.ctx.state.put_secret("argocd_admin_password", base64.b64decode(encoded).decode())
        return bool(encoded), "present" if encoded else ("no password key" if secret else "absent")

    waiting.until(probe, component="Argo CD", awaited=f"secret {NS}/argocd-initial-admin-secret",
               timeout=cfg.timeouts.service_ready, interval=cfg.timeouts.poll_interval,
               next_command="see argocd-server: `gitopslab logs argocd`, then `gitopslab up` to resume",
               clock=layer.deps.clock, sleep=layer.deps.sleep)


def set_admin_password(layer: ClusterLayer, password: str) -> None:
    """Argo CD's admin login set to `password` (a bcrypt hash in argocd-secret, under a field manager of
    its own so the webhook key applied beside it stays), then waited for until a login with it works."""
    import datetime

    import bcrypt


    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    mtime = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    layer.kubectl().apply(stdin=objs.dump(objs.with_data(objs.admin_password(hashed, mtime))),
                          field_manager="gitopslab-admin-password", force_conflicts=True)

    def accepted() -> tuple[bool, str]:
        try:
            with client(layer) as api:
                api.login("admin", password)
        except LabError as exc:
            return False, exc.message
        return True, "login accepted"

    cfg = layer.ctx.cfg
    waiting.until(accepted, component="Argo CD", awaited="the admin login to take the workshop password",
               timeout=cfg.timeouts.service_ready, interval=cfg.timeouts.poll_interval,
               next_command="gitopslab logs argocd")
    layer.ctx.state.put_secret("argocd_admin_password", password)


# --- repository and bootstrap -------------------------------------------------------------------
def _repo_object(layer: ClusterLayer) -> dict[str, Any]:
    secrets = layer.ctx.state.secrets()
    if "gitea_argocd_token" not in secrets:
        raise LabError("the lab's state holds no read-only Gitea token for Argo CD (gitea_argocd_token)",
                       hint="Gitea seeding mints it: run `gitopslab up` again (it seeds Gitea before Argo CD)")
    return objs.with_data(objs.repo_secret(layer.ctx.cfg, layer.ctx.topo, secrets))


def repository_ready(layer: ClusterLayer) -> bool:
    live = layer.kubectl().exists("secret", objs.REPO_SECRET, NS) or {}
    wanted: dict[str, str] = _repo_object(layer)["data"]
    return bool(live) and all((live.get("data") or {}).get(k) == v for k, v in wanted.items())


def apply_repository(layer: ClusterLayer) -> None:
    layer.kubectl().apply(stdin=objs.dump(_repo_object(layer)), force_conflicts=True)


def _bootstrap_paths(layer: ClusterLayer) -> list[Path]:
    root = gitops_dir(layer)
    paths = [root / part for part in GITOPS_PARTS]
    missing = [str(p) for p in paths if not p.is_dir()]
    if missing:
        raise LabError(f"the GitOps tree lacks {', '.join(missing)}",
                       hint="restore gitops/projects and gitops/bootstrap (see docs/ARCHITECTURE.md)")
    return paths


def bootstrapped(layer: ClusterLayer) -> bool:
    try:
        layer.kubectl().get_files(_bootstrap_paths(layer))
    except KubeNotFound:
        return False
    return True


def bootstrap(layer: ClusterLayer) -> None:
    kube = layer.kubectl()
    for path in _bootstrap_paths(layer):  # projects first: the root app names one
        kube.apply(path=path, namespace=NS, force_conflicts=True)


def _registrar(layer: ClusterLayer) -> WebhookRegistrar:
    if layer.deps.webhook is None:
        raise NotBuiltError("the Gitea webhook registrar is not wired into this build of `up`",
                            hint="pass ClusterDeps(webhook=...) (the Gitea client's repo hooks)")
    return layer.deps.webhook


# --- profiles -----------------------------------------------------------------------------------
# Each optional profile's entry Application, applied beside the root app (gitops/profiles/).
PROFILE_ENTRIES = {"observability": ("platform-observability", "profiles/observability.yaml"),
                   "kserve": ("platform-kserve", "profiles/kserve.yaml")}
# With the gpu profile too, a profile's entry is this file instead: the same Application, its GPU variant.
GPU_ENTRIES = {"kserve": "profiles/kserve-gpu.yaml"}
PROFILE_TITLES = {"observability": "observability profile: Prometheus, Grafana, alerts, HPA",
                  "kserve": "kserve profile: cert-manager, KServe (RawDeployment), the InferenceService iris"}


def _entry_file(layer: ClusterLayer, profile: str) -> str:
    return GPU_ENTRIES[profile] if profile in GPU_ENTRIES and layer.gpu else PROFILE_ENTRIES[profile][1]


def profile_entry(layer: ClusterLayer, profile: str) -> Path:
    """From the tree Gitea received (localized: this lab's Gitea URL), never the shipped one, whose
    repoURL the AppProjects of a lab on another Gitea host or port would refuse."""
    return gitops_dir(layer) / _entry_file(layer, profile)


def profile_applied(layer: ClusterLayer, profile: str) -> bool:
    live = layer.kubectl().exists("application", PROFILE_ENTRIES[profile][0], NS) or {}
    source = (live.get("spec") or {}).get("source") or {}
    entry = profile_entry(layer, profile)
    # The path too: turning the gpu profile on later switches kserve's entry to its GPU variant.
    wanted = yaml.safe_load(entry.read_text(encoding="utf-8"))["spec"]["source"]["path"] if entry.is_file() else None
    return source.get("repoURL") == objs.gitops_repo_url(layer.ctx.topo) and wanted in (None, source.get("path"))


def apply_profile(layer: ClusterLayer, profile: str) -> None:
    entry = profile_entry(layer, profile)
    if not entry.is_file():
        raise LabError(f"the GitOps tree lacks {entry}",
                       hint=f"restore gitops/{_entry_file(layer, profile)}, then `gitopslab up` to resume")
    layer.kubectl().apply(path=entry, namespace=NS, force_conflicts=True)


def profile_steps(layer: ClusterLayer) -> list[Step]:
    """The active optional profiles' entry Applications (they sync before `argocd.synced` waits)."""
    return [_profile_step(layer, profile) for profile in PROFILE_ENTRIES if profile in layer.ctx.cfg.profiles]


def _profile_step(layer: ClusterLayer, profile: str) -> Step:
    return FuncStep(f"argocd.profile-{profile}", PROFILE_TITLES[profile], lambda c: profile_applied(layer, profile),
                    lambda c: apply_profile(layer, profile))


# --- Argo CD API ---------------------------------------------------------------------------------
def client(layer: ClusterLayer) -> ArgoCD:
    argocd = layer.ctx.topo.service("argocd")
    # The lab's names may not resolve on the host: talk to 127.0.0.1, keep the name in Host.
    url = layer.deps.argocd_url or f"http://127.0.0.1:{argocd.port}"
    return ArgoCD(url, timeout=layer.ctx.cfg.timeouts.http, transport=layer.deps.argocd_transport,
                  host_header=argocd.address)


def all_synced(layer: ClusterLayer) -> bool:
    password = layer.ctx.state.secrets().get("argocd_admin_password")
    if not password:
        return False
    try:
        with client(layer) as api:
            api.login("admin", password)
            apps = api.applications()
    except LabError:
        return False
    return bool(apps) and all(a.ready for a in apps)


def wait(layer: ClusterLayer) -> None:
    wait_synced(layer, lambda: client(layer), layer.ctx.state.secret("argocd_admin_password"))


def gitea_hook_body(url: str, secret: str) -> dict[str, object]:
    """The body of Gitea's `POST /repos/{owner}/{repo}/hooks` for this webhook (for the registrar):
    a `gitea` hook also sends `X-Gogs-Event`, which Argo CD's Gogs handler verifies with `secret`."""
    return {"type": "gitea", "active": True, "events": ["push"], "branch_filter": "*",
            "config": {"url": url, "content_type": "json", "secret": secret}}


def applications(layer: ClusterLayer) -> list[AppStatus]:
    """For `gitopslab status`: Argo CD's app list (raises HTTPServiceError with a hint when unreachable)."""
    password = layer.ctx.state.secrets().get("argocd_admin_password")
    if not password:
        raise NotBuiltError("Argo CD's admin password is not in the lab's state yet",
                            hint="`gitopslab up` installs Argo CD and reads it")
    with client(layer) as api:
        api.login("admin", password)
        return api.applications()
