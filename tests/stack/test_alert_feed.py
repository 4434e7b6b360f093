"""Alert delivery, for real on 127.0.0.1: Prometheus 2.42 (Debian) evaluates the PrometheusRule's
groups on metrics it scrapes from a stand-in exporter, Alertmanager 0.25 routes with the config in the
chart values, the lab's receiver records the webhook, and `gitopslab alerts` lists it (then its
resolution). Plus the receiver's own contract and the row logic."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gitopslab.model import observability
from gitopslab.stack import alert_feed as alertfeed
from tests.conftest import REPO
from tests.support.observability import RECEIVER_DIR, by_kind, tool

HOT = "hello-api-7c9f8d6b5-hot01"


def gitopslab(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=REPO)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, what: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)
    pytest.fail(f"{what} not ready at {url} after {timeout}s (last: {last})\n{log.read_text()[-2000:]}")


def start(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    fh = log.open("wb")
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The receiver exactly as the ConfigMap ships it, as a process on 127.0.0.1 (port 0)."""
    store = tmp_path / "alerts.jsonl"
    proc = subprocess.Popen([sys.executable, str(RECEIVER_DIR / "receiver.py"), "--host", "127.0.0.1",
                             "--port", "0", "--file", str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        port = re.search(r":(\d+)$", line.strip()).group(1)  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{port}", store
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Exporter:
    """Serves the series the rules read, as kubelet/kube-state-metrics would, computed at scrape time."""

    def __init__(self) -> None:
        self.replicas = 6
        self.started = time.monotonic()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def render(self) -> str:
        used = 0.45 * (time.monotonic() - self.started)  # 90% of a 0.5-core limit
        pod = f'namespace="app-dev",pod="{HOT}",container="hello-api"'
        return (f"container_cpu_usage_seconds_total{{{pod}}} {used:.3f}\n"
                f'kube_pod_container_resource_limits{{{pod},resource="cpu",unit="core"}} 0.5\n'
                f'kube_deployment_status_replicas_available{{namespace="app-dev",deployment="hello-api"}} {self.replicas}\n')


def rules_for_a_fast_clock(obs_objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The deployed groups with only the clock changed: evaluate every second, rate over 4 s windows
    instead of minutes (rate divides by the whole window, so a [2m] window needs 2 minutes of data),
    and wait 2 s instead of 5 minutes. The expressions are otherwise as deployed; the 5-minute
    behaviour itself is proven by promtool in test_rules_eval.py."""
    groups = json.loads(json.dumps(by_kind(obs_objects, "PrometheusRule")["spec"]["groups"]))
    for group in groups:
        group["interval"] = "1s"
        for rule in group["rules"]:
            rule["expr"] = re.sub(r"\[\d+m\]", "[4s]", rule["expr"])
            if "for" in rule:
                rule["for"] = "2s"
    # The chart's always-firing Watchdog: the routing must keep it away from the receiver.
    groups.append({"name": "watchdog", "interval": "1s",
                   "rules": [{"alert": "Watchdog", "expr": "vector(1)", "labels": {"severity": "none"}}]})
    return {"groups": groups}


def alertmanager_config(receiver_url: str) -> dict[str, Any]:
    """The values' Alertmanager config, with the in-cluster receiver address pointed at 127.0.0.1 and
    the grouping timers shortened; routes, receivers and inhibitions stay as deployed."""
    config = json.loads(json.dumps(observability.chart_values()["alertmanager"]["config"]))
    for rec in config["receivers"]:
        for hook in rec.get("webhook_configs", []):
            assert hook["url"].startswith("http://alert-receiver.monitoring.svc:8080/")
            hook["url"] = hook["url"].replace("http://alert-receiver.monitoring.svc:8080", receiver_url)
    config["route"].update(group_wait="1s", group_interval="1s")
    return config


def wait_for_rows(receiver_url: str, predicate, what: str, timeout: float = 90) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        out = gitopslab("alerts", "--url", receiver_url, "--json")
        assert out.returncode == 0, out.stderr
        rows = json.loads(out.stdout)["data"]["alerts"]
        if predicate(rows):
            return rows
        time.sleep(1)
    pytest.fail(f"{what}: not seen in {timeout}s; receiver rows: {rows}")


def test_prometheus_alertmanager_receiver_and_gitopslab_alerts_end_to_end(obs_objects, receiver, tmp_path):
    prometheus, alertmanager = tool("prometheus"), tool("prometheus-alertmanager")
    receiver_url, _ = receiver
    exporter = Exporter()
    am_port, prom_port = free_port(), free_port()
    (tmp_path / "am.yaml").write_text(yaml.safe_dump(alertmanager_config(receiver_url)))
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules_for_a_fast_clock(obs_objects)))
    (tmp_path / "prom.yaml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yaml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
        "scrape_configs": [{"job_name": "stand-in", "honor_labels": True,
                            "static_configs": [{"targets": [f"127.0.0.1:{exporter.port}"]}]}],
    }))
    am_log, prom_log = tmp_path / "am.log", tmp_path / "prom.log"
    am = start([alertmanager, f"--config.file={tmp_path / 'am.yaml'}", f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="], am_log)
    prom = start([prometheus, f"--config.file={tmp_path / 'prom.yaml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                  f"--web.listen-address=127.0.0.1:{prom_port}"], prom_log)
    try:
        wait_http(f"http://127.0.0.1:{am_port}/-/ready", "alertmanager", am_log)
        wait_http(f"http://127.0.0.1:{prom_port}/-/ready", "prometheus", prom_log)

        fired = wait_for_rows(receiver_url, lambda rows: any(
            r["alertname"] == "HelloApiMaxReplicasCpuHigh" and r["status"] == "firing" for r in rows),
            "HelloApiMaxReplicasCpuHigh firing at the receiver")
        row = next(r for r in fired if r["alertname"] == "HelloApiMaxReplicasCpuHigh")
        assert (row["severity"], row["namespace"], row["subject"]) == ("critical", "app-dev", HOT)
        assert "6 of 6 replicas" in row["summary"]

        table = gitopslab("alerts", "--url", receiver_url)
        assert table.returncode == 0, table.stderr
        assert "HelloApiMaxReplicasCpuHigh" in table.stdout and "firing" in table.stdout and HOT in table.stdout
        active = json.loads(gitopslab("alerts", "--url", receiver_url, "--active", "--json").stdout)["data"]["alerts"]
        assert [r["alertname"] for r in active] == ["HelloApiMaxReplicasCpuHigh"]

        exporter.replicas = 5  # the HPA scaled back: the alert clears
        wait_for_rows(receiver_url, lambda rows: any(
            r["alertname"] == "HelloApiMaxReplicasCpuHigh" and r["status"] == "resolved" for r in rows),
            "HelloApiMaxReplicasCpuHigh resolved at the receiver")
        active = json.loads(gitopslab("alerts", "--url", receiver_url, "--active", "--json").stdout)["data"]["alerts"]
        assert active == []
        everything = json.loads(gitopslab("alerts", "--url", receiver_url, "--json").stdout)["data"]["alerts"]
        assert "Watchdog" not in {r["alertname"] for r in everything}, "Watchdog must be routed to the null receiver"
    finally:
        stop(prom)
        stop(am)
        exporter.server.shutdown()


# ---- the receiver's contract ----------------------------------------------------------------------

def payload(status: str = "firing", name: str = "HelloApiHighLatency") -> dict[str, Any]:
    """An Alertmanager webhook notification (version 4), as documented by Alertmanager."""
    alert = {"status": status, "labels": {"alertname": name, "namespace": "app-dev", "severity": "warning"},
             "annotations": {"summary": "p99 is 900ms"}, "startsAt": "2026-11-23T10:00:00Z",
             "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-23T10:09:00Z",
             "generatorURL": "http://prometheus/graph", "fingerprint": "a1b2c3"}
    return {"version": "4", "groupKey": f'{{}}:{{alertname="{name}"}}', "truncatedAlerts": 0, "status": status,
            "receiver": "lab-webhook", "groupLabels": {"alertname": name}, "commonLabels": alert["labels"],
            "commonAnnotations": alert["annotations"], "externalURL": "http://alertmanager:9093", "alerts": [alert]}


def test_receiver_records_a_documented_payload_and_keeps_it_across_restarts(receiver, tmp_path):
    url, store = receiver
    resp = httpx.post(f"{url}/webhook", json=payload(), timeout=5)
    assert resp.status_code == 200 and resp.json() == {"recorded": 1}
    # The same file read by a fresh receiver process (a container restart on its emptyDir).
    proc = subprocess.Popen([sys.executable, str(RECEIVER_DIR / "receiver.py"), "--host", "127.0.0.1", "--port", "0",
                             "--file", str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip().rsplit(":", 1)[1]
        out = gitopslab("alerts", "--url", f"http://127.0.0.1:{port}", "--json")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    rows = json.loads(out.stdout)["data"]["alerts"]
    assert [(r["alertname"], r["status"], r["summary"]) for r in rows] == [("HelloApiHighLatency", "firing", "p99 is 900ms")]
    assert rows[0]["ends_at"] == ""


@pytest.mark.parametrize("body, why", [(b"not json", "not JSON"), (b'{"alerts": []}', "status"),
                                       (b'{"status": "firing", "alerts": [{"status": "firing"}]}', "labels")])
def test_receiver_refuses_what_is_not_a_notification(receiver, body, why):
    url, _ = receiver
    resp = httpx.post(f"{url}/webhook", content=body, timeout=5)
    assert resp.status_code == 400 and why in resp.json()["error"]
    assert httpx.get(f"{url}/alerts", timeout=5).json() == {"notifications": []}


def test_active_keeps_only_alerts_whose_latest_word_is_firing():
    rows = alertfeed.rows([payload("firing"), payload("firing", "HelloApiHighErrorRate") | {"alerts": [
        dict(payload()["alerts"][0], fingerprint="ffff", labels={"alertname": "HelloApiHighErrorRate"})]},
        payload("resolved")])
    assert [r.status for r in rows] == ["firing", "firing", "resolved"]
    assert [r.alertname for r in alertfeed.active(rows)] == ["HelloApiHighErrorRate"]


def test_alerts_without_a_cluster_says_what_to_do():
    out = gitopslab("alerts", "--name", f"t{os.getpid()}")
    assert out.returncode == 1
    assert "kubeconfig" in out.stderr or "kubectl" in out.stderr
    assert "fix:" in out.stderr


@pytest.mark.parametrize(("script", "wanted"), [
    ('echo \'{"notifications": []}\'', None),
    ("echo 'Error from server (NotFound): services \"alert-receiver\" not found' >&2; exit 1", "profile"),
])
def test_reading_through_the_cluster_maps_kubectls_answers(tmp_path: Path, script: str, wanted: str | None) -> None:
    """A stand-in kubectl: the notifications, or a missing receiver (the profile is off)."""
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(f"#!/bin/sh\n{script}\n")
    kubectl.chmod(0o755)
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\n")
    if wanted is None:
        assert alertfeed.fetch_kubectl(tmp_path / "kubeconfig", str(kubectl), timeout=0.1) == []
        return
    with pytest.raises(alertfeed.ToolError) as err:
        alertfeed.fetch_kubectl(tmp_path / "kubeconfig", str(kubectl), timeout=0.1)
    assert wanted in str(err.value)


def test_alerts_with_a_wrong_url_is_a_clear_error():
    out = gitopslab("alerts", "--url", f"http://127.0.0.1:{free_port()}")
    assert out.returncode == 1 and "did not answer" in out.stderr


def test_receiver_service_matches_what_alertfeed_proxies_to(receiver_objects):
    svc = by_kind(receiver_objects, "Service")
    assert (svc["metadata"]["namespace"], svc["metadata"]["name"], svc["spec"]["ports"][0]["port"]) == (
        alertfeed.NAMESPACE, alertfeed.SERVICE, alertfeed.PORT)
    assert alertfeed.PROXY_PATH == "/api/v1/namespaces/monitoring/services/http:alert-receiver:8080/proxy/alerts"
