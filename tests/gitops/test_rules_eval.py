"""The alert and recording rules are EVALUATED by promtool on synthetic series (Debian `prometheus`
ships promtool). The rule groups are read from the PrometheusRule object that Argo CD deploys (after
`kubectl kustomize`), never from a second copy.

Seed 003: alert when 6 replicas run and any pod is above 80% of its CPU limit for 5 minutes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.observability import by_kind

NS = "app-dev"
HOT = "hello-api-7c9f8d6b5-hot01"
COOL = "hello-api-7c9f8d6b5-cool2"
LIMIT = 0.5  # cores
CPU_HIGH_PER_MIN = 27  # core-seconds per minute: 0.45 cores = 90% of the limit
CPU_LOW_PER_MIN = 6  # 0.1 cores = 20%


def cpu_counter(high_minutes: range, minutes: int = 30) -> str:
    """Explicit cumulative values of container_cpu_usage_seconds_total, one per minute."""
    values, total = [], 0
    for minute in range(minutes + 1):
        values.append(str(total))
        total += CPU_HIGH_PER_MIN if minute in high_minutes else CPU_LOW_PER_MIN
    return " ".join(values)


def cpu_series(hot_minutes: range, replicas: str) -> list[dict[str, str]]:
    series = []
    for pod, hot in ((HOT, hot_minutes), (COOL, range(0))):
        series += [
            {"series": f'container_cpu_usage_seconds_total{{namespace="{NS}",pod="{pod}",container="hello-api"}}',
             "values": cpu_counter(hot)},
            # cAdvisor's pod-level series (container="") must not be counted twice.
            {"series": f'container_cpu_usage_seconds_total{{namespace="{NS}",pod="{pod}",container=""}}',
             "values": cpu_counter(hot)},
            {"series": f'kube_pod_container_resource_limits{{namespace="{NS}",pod="{pod}",container="hello-api",resource="cpu",unit="core"}}',
             "values": f"{LIMIT}x30"},
        ]
    series.append({"series": f'kube_deployment_status_replicas_available{{namespace="{NS}",deployment="hello-api"}}',
                   "values": replicas})
    return series


def replica_alert(value: str) -> dict[str, Any]:
    return {
        "exp_labels": {"alertname": "HelloApiMaxReplicasCpuHigh", "namespace": NS, "pod": HOT,
                       "severity": "critical", "team": "app"},
        "exp_annotations": {
            "summary": f"hello-api runs 6 of 6 replicas and pod {HOT} is above 80% of its CPU limit",
            "description": (f"Pod {HOT} in {NS} has used {value} of its CPU limit for 5 minutes while the "
                            "Deployment runs its maximum of 6 replicas. Check the request rate in the hello-api "
                            "dashboard; if it is an attack, block it; if it is real demand, raise maxReplicas "
                            "or the CPU limit in Git."),
        },
    }


def at(minute: float, alert: str, expected: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": f"{int(minute * 60)}s", "alertname": alert, "exp_alerts": expected}


REPLICA_TESTS = [
    # 6 replicas from minute 10 while one pod is hot all along: pending for 5 minutes, then firing.
    {"name": "fires only after 5 minutes of 6 replicas above 80%", "interval": "1m",
     "input_series": cpu_series(range(0, 31), "5x9 6x21"),
     "alert_rule_test": [at(9, "HelloApiMaxReplicasCpuHigh", []),
                         at(14, "HelloApiMaxReplicasCpuHigh", []),
                         at(14.5, "HelloApiMaxReplicasCpuHigh", []),
                         at(15, "HelloApiMaxReplicasCpuHigh", [replica_alert("90%")]),
                         at(20, "HelloApiMaxReplicasCpuHigh", [replica_alert("90%")])],
     "promql_expr_test": [
         {"expr": "hello_api:pod_cpu_limit_ratio", "eval_time": "15m",
          "exp_samples": [{"labels": f'hello_api:pod_cpu_limit_ratio{{namespace="{NS}",pod="{HOT}"}}', "value": 0.9},
                          {"labels": f'hello_api:pod_cpu_limit_ratio{{namespace="{NS}",pod="{COOL}"}}', "value": 0.2}]}]},
    {"name": "silent at 5 replicas however hot", "interval": "1m",
     "input_series": cpu_series(range(0, 31), "5x30"),
     "alert_rule_test": [at(m, "HelloApiMaxReplicasCpuHigh", []) for m in (6, 10, 20, 30)]},
    {"name": "silent when 6 replicas run for only 4 minutes", "interval": "1m",
     "input_series": cpu_series(range(0, 31), "5x9 6x3 5x17"),
     "alert_rule_test": [at(m, "HelloApiMaxReplicasCpuHigh", []) for m in (13, 14, 15, 16, 20, 30)]},
    {"name": "silent when the pod is hot for only 4 minutes at 6 replicas", "interval": "1m",
     "input_series": cpu_series(range(10, 14), "6x30"),
     "alert_rule_test": [at(m, "HelloApiMaxReplicasCpuHigh", []) for m in (12, 14, 15, 16, 17, 18, 20)],
     "promql_expr_test": [
         # The pod really was above 80% (as the rule sees it) in between: the silence is the 5 minutes.
         {"expr": f'hello_api:pod_cpu_limit_ratio{{pod="{HOT}"}} > 0.8', "eval_time": "13m",
          "exp_samples": [{"labels": f'hello_api:pod_cpu_limit_ratio{{namespace="{NS}",pod="{HOT}"}}', "value": 0.9}]}]},
]


def buckets(slow_per_min: int, fast_per_min: int) -> list[dict[str, str]]:
    le = {"0.1": fast_per_min, "0.5": fast_per_min, "1": fast_per_min + slow_per_min, "+Inf": fast_per_min + slow_per_min}
    return [{"series": f'hello_api_request_duration_seconds_bucket{{namespace="{NS}",pod="{HOT}",path="/predict",le="{b}"}}',
             "values": f"0+{n}x30"} for b, n in le.items()]


def requests(ok_per_min: int, err_per_min: int) -> list[dict[str, str]]:
    return [{"series": f'hello_api_requests_total{{namespace="{NS}",pod="{HOT}",method="POST",path="/predict",status="{s}"}}',
             "values": f"0+{n}x30"} for s, n in (("200", ok_per_min), ("500", err_per_min))]


def service_alert(name: str, summary: str, description: str) -> dict[str, Any]:
    return {"exp_labels": {"alertname": name, "namespace": NS, "severity": "warning", "team": "app"},
            "exp_annotations": {"summary": summary, "description": description}}


SERVICE_TESTS = [
    {"name": "p99 latency above 500 ms for 5 minutes fires", "interval": "1m",
     "input_series": buckets(slow_per_min=90, fast_per_min=10),
     "alert_rule_test": [
         at(5.5, "HelloApiHighLatency", []),
         at(8, "HelloApiHighLatency", [service_alert(
             "HelloApiHighLatency", f"hello-api /predict p99 latency is 994.4ms in {NS}",
             "The 99th percentile of /predict answer times has been above 500 ms for 5 minutes.")])]},
    {"name": "fast answers stay silent", "interval": "1m", "input_series": buckets(slow_per_min=0, fast_per_min=100),
     "alert_rule_test": [at(m, "HelloApiHighLatency", []) for m in (8, 20)]},
    {"name": "9% server errors for 5 minutes fires", "interval": "1m", "input_series": requests(100, 10),
     "alert_rule_test": [
         at(5.5, "HelloApiHighErrorRate", []),
         at(8, "HelloApiHighErrorRate", [service_alert(
             "HelloApiHighErrorRate", f"hello-api answers 9.091% of /predict calls with 5xx in {NS}",
             "More than 5% of /predict calls have failed with a server error for 5 minutes.")])],
     "promql_expr_test": [{"expr": "round(hello_api:request_rate:1m, 0.001)", "eval_time": "8m",
                           "exp_samples": [{"labels": f'{{namespace="{NS}"}}', "value": 1.833}]}]},
    {"name": "1% server errors stay silent", "interval": "1m", "input_series": requests(100, 1),
     "alert_rule_test": [at(m, "HelloApiHighErrorRate", []) for m in (8, 20)]},
]


def run_promtool(promtool: str, groups: list[dict[str, Any]], tests: list[dict[str, Any]], tmp_path: Path) -> str:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(
        {"rule_files": ["rules.yaml"], "evaluation_interval": "30s", "tests": tests}, sort_keys=False))
    out = subprocess.run([promtool, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout
    return out.stdout


@pytest.fixture
def groups(obs_objects) -> list[dict[str, Any]]:
    return by_kind(obs_objects, "PrometheusRule")["spec"]["groups"]


def test_replica_alert_fires_after_five_minutes_of_six_hot_replicas_only(promtool, groups, tmp_path):
    run_promtool(promtool, groups, REPLICA_TESTS, tmp_path)


def test_latency_and_error_alerts(promtool, groups, tmp_path):
    run_promtool(promtool, groups, SERVICE_TESTS, tmp_path)


def test_promtool_really_evaluates(promtool, groups, tmp_path):
    """A wrong expectation fails: the alert is NOT firing yet at 14 minutes, so claiming it is must fail."""
    wrong = dict(REPLICA_TESTS[0], alert_rule_test=[at(14, "HelloApiMaxReplicasCpuHigh", [replica_alert("90%")])])
    with pytest.raises(AssertionError, match="HelloApiMaxReplicasCpuHigh"):
        run_promtool(promtool, groups, [wrong], tmp_path)
