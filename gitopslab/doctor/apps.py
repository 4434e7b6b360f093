"""Apps checks: each cluster service answers on its health endpoint through its lab URL (hello-api
/health and a real /predict, MLflow /health, MinIO /minio/health/live, the dashboard)."""

from __future__ import annotations

from gitopslab.doctor.probe import Probe, describe_http_error
from gitopslab.doctor.result import CheckResult, fail, ok
from gitopslab.doctor.runner import Check
from gitopslab.model.topology import Service

G = "Apps"
# A sample of the model's input (iris: four measurements). hello-api answers with a class.
PREDICT_SAMPLE = {"features": [5.1, 3.5, 1.4, 0.2]}


def _name(svc: Service) -> str:
    return svc.key.replace("_", "-")


def _health(svc: Service):  # noqa: ANN202 - a closure per service
    def check(p: Probe) -> CheckResult:
        name = _name(svc)
        try:
            resp = p.http(svc, svc.health_path)
        except Exception as exc:
            detail, fix = describe_http_error(exc, svc, p.timeout)
            return fail(G, name, detail, _kube_fix(p, svc, fix))
        if resp.status_code >= 400:
            return fail(G, name, f"{svc.url}{svc.health_path} answered HTTP {resp.status_code}: "
                                 f"{resp.text[:100].strip()}", _kube_fix(p, svc, f"gitopslab logs {svc.key}"))
        return ok(G, name, f"{svc.url}{svc.health_path}: HTTP {resp.status_code}")

    return check


def _kube_fix(p: Probe, svc: Service, fallback: str) -> str:
    if not svc.namespace:
        return fallback
    return (f"kubectl --kubeconfig {p.state.kubeconfig} -n {svc.namespace} get pods; "
            f"kubectl --kubeconfig {p.state.kubeconfig} -n {svc.namespace} logs deploy/{svc.k8s_service}")


def predict(p: Probe) -> CheckResult:
    svc = p.topo.service("hello_api")
    try:
        resp = p.http(svc, "/predict", "POST", json=PREDICT_SAMPLE)
    except Exception as exc:
        detail, fix = describe_http_error(exc, svc, p.timeout)
        return fail(G, "hello-api-predict", detail, fix)
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.status_code != 200 or not isinstance(body, dict):
        return fail(G, "hello-api-predict", f"POST {svc.url}/predict answered HTTP {resp.status_code}: "
                                            f"{resp.text[:120].strip()}",
                    _kube_fix(p, svc, "gitopslab logs hello_api"))
    label = next((body[k] for k in ("class", "label", "prediction", "class_name") if k in body), None)
    shown = f"class {label!r}" if label is not None else f"keys {sorted(body)}"
    return ok(G, "hello-api-predict", f"POST /predict answers: {shown}")


def checks(p_topo_services: list[Service]) -> list[Check]:
    out = []
    for svc in p_topo_services:
        if svc.layer != "cluster" or svc.key == "argocd":
            continue
        out.append(Check(G, _name(svc), _health(svc), needs=("Cluster/api",)))
        if svc.key == "hello_api":
            out.append(Check(G, "hello-api-predict", predict, needs=("Apps/hello-api",)))
    return out
