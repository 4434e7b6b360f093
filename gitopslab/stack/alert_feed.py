"""What the lab's alert receiver recorded (gitops/base/platform/monitoring/alert-receiver).

Alertmanager posts each notification (webhook format version 4) to the receiver; the receiver serves
them at `GET /alerts`. This module fetches them, either straight from a URL (`--url`, a port-forward,
tests) or through the Kubernetes API server's service proxy with the lab's kubeconfig (the receiver
has no NodePort of its own), and flattens them into one row per alert per notification.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from gitopslab.drivers import proc
from gitopslab.errors import HTTPServiceError, LabError, ToolError

NAMESPACE = "monitoring"
SERVICE = "alert-receiver"
PORT = 8080
PROXY_PATH = f"/api/v1/namespaces/{NAMESPACE}/services/http:{SERVICE}:{PORT}/proxy/alerts"
_PROFILE_HINT = "turn the observability profile on: `gitopslab up --profile observability`"


@dataclass(frozen=True)
class AlertRow:
    received_at: str
    status: str
    alertname: str
    severity: str
    namespace: str
    subject: str  # the pod, or else the instance/job the alert is about
    starts_at: str
    ends_at: str
    summary: str
    fingerprint: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def fetch_url(base_url: str, timeout: float = 10.0, transport: httpx.BaseTransport | None = None) -> list[dict[str, Any]]:
    url = base_url.rstrip("/") + "/alerts"
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), transport=transport) as client:
            resp = client.get(url)
    except httpx.HTTPError as exc:
        raise HTTPServiceError(f"the alert receiver at {url} did not answer: {exc}",
                               hint="check --url, or run without it to go through the lab's cluster") from exc
    if resp.status_code != 200:
        raise HTTPServiceError(f"the alert receiver at {url} answered {resp.status_code}: {resp.text[:200]}",
                               hint="is --url the receiver's base URL (it serves /alerts)?")
    return _notifications(resp.text, url)


def fetch_kubectl(kubeconfig: Path, kubectl: str | None = None, timeout: float = 20.0) -> list[dict[str, Any]]:
    """GET the receiver's /alerts through the API server proxy (`kubectl get --raw`)."""
    kubectl = kubectl or shutil.which("kubectl")
    if not kubectl:
        raise ToolError("kubectl was not found on PATH", hint="gitopslab tools install kubectl")
    if not kubeconfig.is_file():
        raise LabError(f"the lab's cluster has no kubeconfig at {kubeconfig}",
                       hint="bring the lab up first: `gitopslab up --profile observability`")
    cmd = [kubectl, "--kubeconfig", str(kubeconfig), f"--request-timeout={int(timeout)}s", "get", "--raw", PROXY_PATH]
    try:
        done = proc.run(cmd, timeout=timeout + 5)
    except proc.TimedOut as exc:
        raise ToolError(f"kubectl get --raw {PROXY_PATH} did not finish in {timeout + 5:g}s",
                        hint="is the cluster running? `gitopslab status`") from exc
    if not done.ok:
        err = done.stderr.strip()
        hint = _PROFILE_HINT if ("NotFound" in err or "not found" in err) else "check the cluster: `gitopslab doctor`"
        raise ToolError(f"could not read the alert receiver through the cluster: {err or 'kubectl failed'}", hint=hint)
    return _notifications(done.stdout, f"{SERVICE}.{NAMESPACE} via the API server")


def _notifications(text: str, where: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
        items = data["notifications"]
        if not isinstance(items, list):
            raise TypeError("notifications is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise HTTPServiceError(f"{where} did not answer like the lab's alert receiver ({exc})",
                               hint="is the URL the receiver's (it serves /alerts with a 'notifications' list)?") from exc
    return items


def rows(notifications: list[dict[str, Any]]) -> list[AlertRow]:
    """One row per alert per notification, oldest first (as received)."""
    out = []
    for note in notifications:
        for alert in note.get("alerts", []):
            labels = alert.get("labels", {})
            annotations = alert.get("annotations", {})
            ends = alert.get("endsAt", "")
            out.append(AlertRow(
                received_at=note.get("received_at", ""),
                status=alert.get("status", note.get("status", "")),
                alertname=labels.get("alertname", ""),
                severity=labels.get("severity", ""),
                namespace=labels.get("namespace", ""),
                subject=labels.get("pod") or labels.get("instance") or labels.get("job", ""),
                starts_at=alert.get("startsAt", ""),
                ends_at="" if ends.startswith("0001-") else ends,
                summary=annotations.get("summary", "") or annotations.get("description", ""),
                fingerprint=alert.get("fingerprint", ""),
            ))
    return out


def active(all_rows: list[AlertRow]) -> list[AlertRow]:
    """Alerts whose latest notification says firing (a later resolved one clears them)."""
    latest: dict[str, AlertRow] = {}
    for row in all_rows:
        key = row.fingerprint or f"{row.alertname}/{row.namespace}/{row.subject}"
        latest[key] = row
    return [r for r in latest.values() if r.status == "firing"]
