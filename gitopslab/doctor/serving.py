"""Apps checks of the kserve profile (issue 27): KServe's controller is available, each InferenceService
is Ready, and the model endpoint (models.localhost) answers a prediction in KServe's v1 protocol.
Each is a skip naming the profile when it is off."""

from __future__ import annotations

from typing import Any

from gitopslab.doctor.probe import KubeError, Probe, describe_http_error
from gitopslab.doctor.result import CheckResult, fail, ok, skip
from gitopslab.doctor.runner import Check

G = "Apps"
CONTROLLER = ("kserve", "kserve-controller-manager")  # namespace, Deployment (the kserve-resources chart's)
ML_NAMESPACES = ("ml-dev", "ml-prd")
# KServe's v1 protocol: a batch of instances, the answer a list of predictions (one class per row).
PREDICT_SAMPLE = {"instances": [[5.1, 3.5, 1.4, 0.2]]}
_OFF = "the kserve profile is off"


def _kubectl(p: Probe) -> str:
    return f"kubectl --kubeconfig {p.state.kubeconfig}"


def controller(p: Probe) -> CheckResult:
    if not p.cfg.kserve:
        return skip(G, "kserve-controller", _OFF)
    ns, name = CONTROLLER
    fix = f"{_kubectl(p)} -n {ns} describe deploy/{name}; {_kubectl(p)} -n argocd get application kserve"
    try:
        deploy = p.kubectl_raw(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}")
    except KubeError as exc:
        return fail(G, "kserve-controller", f"no Deployment {ns}/{name}: {exc}", fix)
    status = deploy.get("status", {})
    available = int(status.get("availableReplicas") or 0)
    if available < 1:
        return fail(G, "kserve-controller", f"{ns}/{name}: {available} of {status.get('replicas', 0)} replicas "
                                            "available", f"{_kubectl(p)} -n {ns} logs deploy/{name}; {fix}")
    return ok(G, "kserve-controller", f"{ns}/{name}: {available} replica(s) available")


def _ready(isvc: dict[str, Any]) -> tuple[bool, str]:
    for cond in isvc.get("status", {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True", str(cond.get("message") or cond.get("reason") or "")
    return False, "no Ready condition yet"


def _address(isvc: dict[str, Any]) -> str:
    """Where the InferenceService answers inside the cluster (status.address.url, the predictor Service).
    Not status.url: with no ingress (the lab's values.yaml) KServe v0.20.0 still fills it from its ingress
    domain, `http://iris-ml-dev.example.com`, which nothing serves (the real controller's status,
    tests/real/test_kserve_controller.py)."""
    status = isvc.get("status", {})
    return str((status.get("address") or {}).get("url") or status.get("url") or "no address yet")


def inference_services(p: Probe) -> list[CheckResult]:
    if not p.cfg.kserve:
        return [skip(G, "inferenceservices", _OFF)]
    out = []
    for ns in ML_NAMESPACES:
        try:
            items = p.kubectl_raw(f"/apis/serving.kserve.io/v1beta1/namespaces/{ns}/inferenceservices").get("items", [])
        except KubeError as exc:
            out.append(fail(G, f"inferenceservices-{ns}", f"InferenceServices of {ns} unreadable: {exc}",
                            f"{_kubectl(p)} get crd inferenceservices.serving.kserve.io"))
            continue
        if not items:
            out.append(fail(G, f"inferenceservices-{ns}", f"no InferenceService in {ns}",
                            f"{_kubectl(p)} -n argocd get application {ns}-models"))
        for isvc in items:
            name = isvc["metadata"]["name"]
            ready, why = _ready(isvc)
            line = f"inferenceservice-{ns}-{name}"
            if ready:
                out.append(ok(G, line, f"{ns}/{name} Ready ({_address(isvc)})"))
            else:
                out.append(fail(G, line, f"{ns}/{name} not Ready: {why}",
                                f"{_kubectl(p)} -n {ns} describe inferenceservice {name}; "
                                f"{_kubectl(p)} -n {ns} logs deploy/{name}-predictor -c storage-initializer"))
    return out


def prediction(p: Probe) -> CheckResult:
    if not p.cfg.kserve:
        return skip(G, "models-predict", _OFF)
    svc = p.topo.service("models")
    path = "/v1/models/iris:predict"
    try:
        resp = p.http(svc, path, "POST", json=PREDICT_SAMPLE)
    except Exception as exc:
        detail, fix = describe_http_error(exc, svc, p.timeout)
        return fail(G, "models-predict", detail, fix)
    try:
        body = resp.json()
    except ValueError:
        body = None
    predictions = body.get("predictions") if isinstance(body, dict) else None
    if resp.status_code != 200 or not isinstance(predictions, list) or len(predictions) != 1:
        return fail(G, "models-predict", f"POST {svc.url}{path} answered HTTP {resp.status_code}: "
                                         f"{resp.text[:120].strip()}",
                    f"{_kubectl(p)} -n ml-dev logs deploy/iris-predictor")
    # The InferenceService answers predict_proba (PREDICT_PROBA, base/ml/kserve-iris): one row per instance.
    return ok(G, "models-predict", f"POST {svc.url}{path} answers: {predictions[0]!r}")


def checks() -> list[Check]:
    return [
        Check(G, "kserve-controller", controller, needs=("Cluster/api",)),
        Check(G, "inferenceservices", inference_services, needs=("Cluster/api",)),
        Check(G, "models-predict", prediction, needs=("Cluster/api",)),
    ]
