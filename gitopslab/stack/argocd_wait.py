"""Wait until every Argo CD application is Synced and Healthy, reporting each poll as a snapshot (the
face draws it as a live table: app, sync, health, for how long); on timeout report what is wrong (app
conditions, pods not ready with their last events) and raise `WaitTimeout` naming the last state and
the next command."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gitopslab import wait as waiting
from gitopslab.clients.argocd import AppStatus, ArgoCD
from gitopslab.errors import LabError, WaitTimeout
from gitopslab.stack.events import AppsSnapshot, Diagnostics

if TYPE_CHECKING:
    from gitopslab.drivers.kube import Kubectl
    from gitopslab.stack.cluster_layer import ClusterLayer

NEXT = "`gitopslab doctor` names what is broken; `gitopslab up` resumes the wait"


def wait_synced(layer: ClusterLayer, make_client: Callable[[], ArgoCD], password: str) -> list[AppStatus]:
    cfg, deps, report = layer.ctx.cfg, layer.deps, layer.ctx.report
    since: dict[str, tuple[tuple[str, str], float]] = {}
    last: dict[str, Any] = {"apps": [], "error": "", "logged_in": False}

    def snapshot(now: float, final: bool) -> AppsSnapshot:
        return AppsSnapshot(last["apps"], {name: at for name, (_, at) in since.items()}, now, final=final)

    with make_client() as api:
        def probe() -> tuple[bool, str]:
            try:
                if not last["logged_in"]:
                    api.login("admin", password)
                    last["logged_in"] = True
                last["apps"], last["error"] = api.applications(), ""
            except LabError as exc:  # argocd-server restarting, or the port not forwarded yet
                last["error"], last["logged_in"] = exc.message, False
            apps, now = last["apps"], deps.clock()
            for app in apps:
                if since.get(app.name, (None, 0.0))[0] != (app.sync, app.health):
                    since[app.name] = ((app.sync, app.health), now)
            ready = bool(apps) and not last["error"] and all(a.ready for a in apps)
            report(snapshot(now, final=ready))
            return ready, _seen(apps, last["error"])

        try:
            waiting.until(probe, component="Argo CD", awaited="every application Synced and Healthy",
                          timeout=cfg.timeouts.argocd_sync, interval=cfg.timeouts.poll_interval,
                          next_command=NEXT, clock=deps.clock, sleep=deps.sleep)
            return list(last["apps"])
        except WaitTimeout as timed_out:
            report(snapshot(deps.clock(), final=True))
            report(Diagnostics(dump(last["apps"], layer.kubectl())))
            raise WaitTimeout(
                f"Argo CD: not every application was Synced and Healthy within {cfg.timeouts.argocd_sync:.0f} s "
                f"(awaited: all apps Synced+Healthy; last seen: {_seen(last['apps'], last['error'])})",
                hint=NEXT,
            ) from timed_out


def _seen(apps: list[AppStatus], error: str) -> str:
    seen = ", ".join(f"{a.name} {a.sync}/{a.health}" for a in apps if not a.ready) or "no applications listed"
    return f"{seen}; last error: {error}" if error else seen


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
