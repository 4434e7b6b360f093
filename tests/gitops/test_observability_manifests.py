"""The observability profile's objects: they build, validate against the real schemas, and agree with
the one model of the lab (versions.py pins, topology ports/names/namespace, the seed's numbers)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gitopslab.model import observability
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import CLUSTER_PLACEMENT, build
from gitopslab.model.versions import IMAGES, KUBE_PROMETHEUS_STACK_CHART
from tests.support.observability import APP_OBS, MONITORING, by_kind, tool

pytestmark = pytest.mark.contracts

# The k3s pin decides which Kubernetes API the objects must satisfy.
K8S_VERSION = re.search(r":v(\d+\.\d+)\.", IMAGES["k3s"]).group(1) + ".0"  # type: ignore[union-attr]


def strict_validate(docs: list[dict[str, Any]], tmp_path: Path) -> str:
    """kubernetes-validate --strict; an unknown apiVersion only WARNs with exit 0, so fail on WARN too."""
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    out = subprocess.run([tool("kubernetes-validate"), "--strict", "-k", K8S_VERSION, str(path)],
                         capture_output=True, text=True, timeout=120)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "WARN" not in text and "ERROR" not in text, text
    return text


def schema(contracts_dir: Path, name: str) -> jsonschema.protocols.Validator:
    doc = json.loads((contracts_dir / name).read_text())
    cls = jsonschema.validators.validator_for(doc)
    cls.check_schema(doc)
    return cls(doc)


def test_hpa_is_autoscaling_v2_min4_max6_on_cpu_and_strictly_valid(obs_objects, tmp_path):
    hpa = by_kind(obs_objects, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (4, 6)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hello-api"}
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    text = strict_validate([hpa, by_kind(obs_objects, "ConfigMap")], tmp_path)
    assert "horizontalpodautoscaler/hello-api" in text and "configmap/hello-api-dashboard" in text


def test_receiver_objects_are_strictly_valid_and_use_the_pinned_python_image(receiver_objects, tmp_path):
    text = strict_validate(receiver_objects, tmp_path)
    assert "deployment/alert-receiver" in text and "service/alert-receiver" in text
    deploy = by_kind(receiver_objects, "Deployment")
    assert deploy["metadata"]["namespace"] == CLUSTER_PLACEMENT["alertmanager"][0]
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGES["python"]
    script = by_kind(receiver_objects, "ConfigMap")["data"]["receiver.py"]
    assert script == (MONITORING / "alert-receiver" / "receiver.py").read_text()


def test_servicemonitor_and_rule_match_the_operator_crd_schemas(obs_objects, contracts_dir):
    sm = by_kind(obs_objects, "ServiceMonitor")
    rule = by_kind(obs_objects, "PrometheusRule")
    schema(contracts_dir, "service-monitor.schema.json").validate(sm)
    schema(contracts_dir, "prometheus-rule.schema.json").validate(rule)
    release = KUBE_PROMETHEUS_STACK_CHART[0]
    assert sm["metadata"]["labels"]["release"] == release
    assert rule["metadata"]["labels"]["release"] == release
    assert sm["spec"]["endpoints"][0]["path"] == "/metrics"


def test_schema_validation_rejects_a_broken_servicemonitor(obs_objects, contracts_dir):
    """The schema check has teeth: a ServiceMonitor without endpoints is refused."""
    sm = json.loads(json.dumps(by_kind(obs_objects, "ServiceMonitor")))
    del sm["spec"]["endpoints"]
    with pytest.raises(jsonschema.ValidationError):
        schema(contracts_dir, "service-monitor.schema.json").validate(sm)


def test_applications_validate_and_follow_the_tenancy_rules(monitoring_apps, contracts_dir):
    validator = schema(contracts_dir, "argocd-application.schema.json")
    names = []
    for app in monitoring_apps:
        validator.validate(app)
        names.append(app["metadata"]["name"])
        assert app["metadata"]["namespace"] == "argocd"
        assert app["spec"]["project"] not in ("", "default")
    assert sorted(names) == sorted(observability.APPLICATIONS)
    apps = {a["metadata"]["name"]: a for a in monitoring_apps}
    assert apps["hello-api-observability"]["spec"]["project"] == "app-dev"
    assert apps["hello-api-observability"]["spec"]["destination"]["namespace"] == "app-dev"
    for name in ("kube-prometheus-stack", "alert-receiver"):
        assert apps[name]["spec"]["project"] == "platform"
        assert apps[name]["spec"]["destination"]["namespace"] == "monitoring"


def test_chart_app_is_pinned_server_side_and_names_match_the_topology(monitoring_apps):
    app = next(a for a in monitoring_apps if a["metadata"]["name"] == "kube-prometheus-stack")
    chart_name, version, repo = KUBE_PROMETHEUS_STACK_CHART
    chart = next(s for s in app["spec"]["sources"] if "chart" in s)
    assert (chart["chart"], chart["targetRevision"], chart["repoURL"]) == (chart_name, version, repo)
    assert "ServerSideApply=true" in app["spec"]["syncPolicy"]["syncOptions"]
    release = chart["helm"]["releaseName"]
    # The chart names its Services <release>-grafana etc.; the topology (URLs, doctor) expects those.
    for key in ("grafana", "prometheus", "alertmanager"):
        namespace, service = CLUSTER_PLACEMENT[key]
        assert namespace == app["spec"]["destination"]["namespace"]
        assert service == f"{release}-{key}"
    values_ref = next(s for s in app["spec"]["sources"] if s.get("ref") == "values")
    assert chart["helm"]["valueFiles"] == [f"$values/{observability.MONITORING_DIR}/values.yaml"]
    assert values_ref["repoURL"].endswith("/platform/gitops.git")


def test_values_are_laptop_sized_with_nodeports_from_the_topology():
    values = observability.chart_values()
    topo = build(LabConfig(observability=True))
    assert values["grafana"]["service"] == {"type": "NodePort", "nodePort": topo.service("grafana").node_port}
    assert values["prometheus"]["service"] == {"type": "NodePort", "nodePort": topo.service("prometheus").node_port}
    assert values["alertmanager"]["service"] == {"type": "NodePort", "nodePort": topo.service("alertmanager").node_port}
    for component in ("kubeEtcd", "kubeControllerManager", "kubeScheduler", "kubeProxy"):
        assert values[component]["enabled"] is False, component
    assert values["prometheus-node-exporter"]["hostRootFsMount"]["enabled"] is False
    assert re.fullmatch(r"\d+h", values["prometheus"]["prometheusSpec"]["retention"])
    assert "adminPassword" not in values["grafana"], "the Grafana password must not be in git"
    assert 1000 <= observability.memory_limit_mib() <= 2048


def test_alertmanager_routes_to_the_in_lab_receiver(receiver_objects):
    config = observability.chart_values()["alertmanager"]["config"]
    receivers = {r["name"]: r for r in config["receivers"]}
    assert config["route"]["receiver"] == "lab-webhook"
    hook = receivers["lab-webhook"]["webhook_configs"][0]
    svc = by_kind(receiver_objects, "Service")
    port = svc["spec"]["ports"][0]["port"]
    assert hook["url"] == f"http://{svc['metadata']['name']}.{svc['metadata']['namespace']}.svc:{port}/webhook"
    assert hook["send_resolved"] is True


def test_replica_alert_threshold_is_the_hpa_maximum(obs_objects):
    hpa = by_kind(obs_objects, "HorizontalPodAutoscaler")
    rules = [r for g in by_kind(obs_objects, "PrometheusRule")["spec"]["groups"] for r in g["rules"]]
    alert = next(r for r in rules if r.get("alert") == "HelloApiMaxReplicasCpuHigh")
    assert f">= {hpa['spec']['maxReplicas']}" in alert["expr"]
    assert "> 0.8" in alert["expr"] and alert["for"] == "5m"


def test_dashboard_shows_the_seed_panels_and_every_query_parses(obs_objects, promtool, tmp_path):
    cm = by_kind(obs_objects, "ConfigMap")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    dash = json.loads(cm["data"]["hello-api.json"])
    titles = " | ".join(p["title"].lower() for p in dash["panels"])
    for needed in ("request rate", "latency", "replicas", "cpu per pod", "model version"):
        assert needed in titles, f"no {needed!r} panel in {titles}"
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    assert any("histogram_quantile(0.99" in e for e in exprs)
    # Grafana variables are substituted the way Grafana would before promtool parses the queries.
    rules = [{"record": f"dashboard:query{i}", "expr": e.replace("$__rate_interval", "1m").replace("$namespace", "app-dev")}
             for i, e in enumerate(exprs)]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    out = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(rules)} rules found" in out.stdout


def test_rule_file_passes_promtool_check(obs_objects, promtool, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": by_kind(obs_objects, "PrometheusRule")["spec"]["groups"]}))
    out = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_app_folder_objects_all_land_in_app_dev(obs_objects):
    assert {d["metadata"]["namespace"] for d in obs_objects} == {"app-dev"}
    assert APP_OBS.joinpath("dashboard.json").is_file()
