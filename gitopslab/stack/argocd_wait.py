"""Wait until every Argo CD application is Synced and Healthy, reporting each poll as a snapshot (the
face draws it as a live table: app, sync, health, for how long); on timeout report what is wrong (app
conditions, pods not ready with their last events) and raise `WaitTimeout` naming the last state and
the next command."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gitopslab.clients.argocd import AppStatus, ArgoCD
from gitopslab.errors import LabError, WaitTimeout
from gitopslab.stack.events import AppsSnapshot, Diagnostics

if TYPE_CHECKING:
    from gitopslab.drivers.kube import Kubectl
    from gitopslab.stack.cluster_layer import ClusterLayer

NEXT = "`gitopslab doctor` names what is broken; `gitopslab up` resumes the wait"


def wait_synced(layer: ClusterLayer, make_client: Callable[[], ArgoCD], password: str) -> list[AppStatus]:
    cfg, deps, report = layer.ctx.cfg, layer.deps, layer.ctx.report
    timeout, interval = cfg.timeouts.argocd_sync, cfg.timeouts.poll_interval
    deadline = deps.clock() + timeout  # computed when this wait starts
    since: dict[str, tuple[tuple[str, str], float]] = {}
    apps: list[AppStatus] = []
    last_error = ""
    with make_client() as api:
        logged_in = False
        while True:
            try:
                if not logged_in:
                    api.login("admin", password)
                    logged_in = True
                apps = api.applications()
                last_error = ""
            except LabError as exc:  # argocd-server restarting, or the port not forwarded yet
                last_error, logged_in = exc.message, False
            now = deps.clock()
            for app in apps:
                state = (app.sync, app.health)
                if since.get(app.name, (None, 0.0))[0] != state:
                    since[app.name] = (state, now)
            ready = bool(apps) and not last_error and all(a.ready for a in apps)
            final = ready or now >= deadline
            report(AppsSnapshot(apps, {name: at for name, (_, at) in since.items()}, now, final=final))
            if ready:
                return apps
            if final:
                break
            deps.sleep(interval)
    report(Diagnostics(dump(apps, layer.kubectl())))
    seen = ", ".join(f"{a.name} {a.sync}/{a.health}" for a in apps if not a.ready) or "no applications listed"
    if last_error:
        seen += f"; last error: {last_error}"
    raise WaitTimeout(
        f"Argo CD: not every application was Synced and Healthy within {timeout:.0f} s "
        f"(awaited: all apps Synced+Healthy; last seen: {seen})",
        hint=NEXT,
    )


def dump(apps: list[AppStatus], kube: Kubectl) -> str:
    """What a person needs to see first: the apps that are not ready and why, then the pods."""
    lines = ["Diagnostics", "Applications not Synced+Healthy:"]
    for app in (a for a in apps if not a.ready):
        lines.append(f"  {app.name}: sync={app.sync} health={app.health}")
        lines += [f"    condition {c}" for c in app.conditions]
        if app.operation:
            lines.append(f"    last operation: {app.operation}")
    lines.append("Pods not ready:")
    try:
        pods = kube.get_json("pods", all_namespaces=True).get("items", [])
        events = kube.get_json("events", all_namespaces=True).get("items", [])
    except LabError as exc:
        lines.append(f"  (could not read pods: {exc.message})")
        return "\n".join(lines)
    bad = [p for p in pods if not pod_ready(p)]
    for pod in bad:
        meta = pod.get("metadata", {})
        ns, name = meta.get("namespace", "?"), meta.get("name", "?")
        lines.append(f"  {ns}/{name}: {pod_reason(pod)}")
        for event in last_events(events, ns, name):
            lines.append(f"    event {event}")
    if not bad:
        lines.append("  (none)")
    return "\n".join(lines)


def pod_ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") == "Succeeded":
        return True
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return status.get("phase") == "Running" and conditions.get("Ready") == "True"


def pod_reason(pod: dict[str, Any]) -> str:
    status = pod.get("status") or {}
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting:
            return f"{status.get('phase', '?')}, {cs.get('name')}: {waiting.get('reason', '')} {waiting.get('message', '')}".strip()
    return str(status.get("phase", "Unknown"))


def last_events(events: list[dict[str, Any]], namespace: str, name: str, limit: int = 3) -> list[str]:
    mine = [e for e in events if (e.get("involvedObject") or {}).get("name") == name
            and (e.get("involvedObject") or {}).get("namespace", e.get("metadata", {}).get("namespace")) == namespace]
    mine.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return [f"{e.get('type', '')} {e.get('reason', '')}: {e.get('message', '')}" for e in mine[-limit:]]
