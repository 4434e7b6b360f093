"""GitOps checks: Argo CD answers, every Application is Synced and Healthy (naming the resource that
is not), and Argo CD can reach the GitOps repository in Gitea."""

from __future__ import annotations

import base64
from typing import Any

from gitopslab.doctor.probe import KubeError, Probe, describe_http_error
from gitopslab.doctor.result import CheckResult, fail, ok, skip, warn
from gitopslab.doctor.runner import Check

G = "GitOps"
APPS_PATH = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"


def argocd(p: Probe) -> CheckResult:
    svc = p.topo.service("argocd")
    try:
        resp = p.http(svc, "/healthz")
    except Exception as exc:
        detail, fix = describe_http_error(exc, svc, p.timeout)
        return fail(G, "argocd", detail, fix)
    if resp.status_code != 200:
        return fail(G, "argocd", f"{svc.url}/healthz answered HTTP {resp.status_code}",
                    f"kubectl --kubeconfig {p.state.kubeconfig} -n argocd get pods")
    return ok(G, "argocd", f"{svc.url} answers")


def failing_resource(app: dict[str, Any]) -> str | None:
    """The first resource of an Application that is out of sync or not healthy, with its message."""
    for res in app.get("status", {}).get("resources", []) or []:
        health = (res.get("health") or {}).get("status", "Healthy")
        sync = res.get("status", "Synced")
        if health not in ("Healthy", "") or sync != "Synced":
            where = f"{res.get('namespace')}/" if res.get("namespace") else ""
            msg = (res.get("health") or {}).get("message")
            state = health if health not in ("Healthy", "") else sync
            return f"{res.get('kind')} {where}{res.get('name')} {state}" + (f": {msg}" if msg else "")
    return None


def _app_line(app: dict[str, Any], kubeconfig: str) -> CheckResult:
    name = app["metadata"]["name"]
    status = app.get("status", {})
    sync = (status.get("sync") or {}).get("status", "Unknown")
    health = (status.get("health") or {}).get("status", "Unknown")
    if sync == "Synced" and health == "Healthy":
        return ok(G, f"app:{name}", "Synced, Healthy")
    conds = [c.get("message", "") for c in status.get("conditions", []) or [] if "Error" in c.get("type", "")]
    why = failing_resource(app) or (conds[0][:160] if conds else "no resource named")
    fix = f"argocd app get {name}   (or kubectl --kubeconfig {kubeconfig} -n argocd describe application {name})"
    if health == "Progressing" and sync == "Synced":
        return warn(G, f"app:{name}", f"Synced, still Progressing: {why}", "wait, then run doctor again")
    return fail(G, f"app:{name}", f"{sync}, {health}: {why}", fix)


def apps(p: Probe) -> list[CheckResult]:
    try:
        items = p.kubectl_raw(APPS_PATH).get("items", [])
    except KubeError as exc:
        return [fail(G, "apps", f"cannot list Argo CD Applications: {exc}", "gitopslab up (installs Argo CD)")]
    if not items:
        return [fail(G, "apps", "Argo CD has no Applications: the root app was not created", "gitopslab up")]
    return [_app_line(a, str(p.state.kubeconfig)) for a in sorted(items, key=lambda a: a["metadata"]["name"])]


def _admin_password(p: Probe) -> str | None:
    stored = p.state.stored_secret("argocd_admin_password")
    if stored:
        return str(stored)
    try:
        secret = p.kubectl_raw("/api/v1/namespaces/argocd/secrets/argocd-initial-admin-secret")
        return base64.b64decode(secret["data"]["password"]).decode()
    except (KubeError, KeyError, ValueError):
        return None


def repo(p: Probe) -> CheckResult:
    password = _admin_password(p)
    if not password:
        return skip(G, "repo", "no Argo CD admin password (state argocd_admin_password or "
                               "argocd-initial-admin-secret): cannot ask Argo CD about its repositories")
    svc = p.topo.service("argocd")
    try:
        token = p.http(svc, "/api/v1/session", "POST", json={"username": "admin", "password": password}).json()["token"]
        repos = p.http(svc, "/api/v1/repositories", headers={"Authorization": f"Bearer {token}"}).json()
    except (KeyError, ValueError, TypeError):
        return fail(G, "repo", "Argo CD refused the admin login or answered unexpectedly",
                    "gitopslab creds; check the admin password in Argo CD")
    except Exception as exc:
        detail, fix = describe_http_error(exc, svc, p.timeout)
        return fail(G, "repo", detail, fix)
    items = repos.get("items") or []
    gitea = p.topo.service("gitea").url
    mine = [r for r in items if str(r.get("repo", "")).startswith(gitea)]
    if not mine:
        return fail(G, "repo", f"Argo CD knows no repository under {gitea}", "gitopslab up (adds the repo secret)")
    broken = [r for r in mine if (r.get("connectionState") or {}).get("status") != "Successful"]
    if broken:
        r = broken[0]
        msg = (r.get("connectionState") or {}).get("message", "no message")
        return fail(G, "repo", f"Argo CD cannot reach {r['repo']}: {msg[:160]}",
                    "check from a pod: the Links group; and the repo secret's username/token")
    return ok(G, "repo", f"Argo CD reaches {', '.join(r['repo'] for r in mine)}")


def checks() -> list[Check]:
    return [
        Check(G, "argocd", argocd, needs=("Cluster/api",)),
        Check(G, "apps", apps, needs=("Cluster/api",)),
        Check(G, "repo", repo, needs=("GitOps/argocd",)),
    ]
