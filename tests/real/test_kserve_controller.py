"""Issue 27: the real KServe controller (cmd/manager of kserve v0.20.0, `build.py serving`) against the real
cluster tier. KServe's CRDs and the lab's configuration of it come from the release's charts rendered with
the GitOps tree's values.yaml / runtimes.yaml (tests/real/kserve_controller.py, which also says what differs
from a lab and why); the real Argo CD syncs ml-dev's InferenceService `iris` from the real Gitea with the
Application the kserve profile gives (base/platform/kserve/ml-dev-models.yaml), after a model pin written
by the pipeline's own update-gitops.sh. What is asserted is what the real controller and its pod-mutating
webhook make of it: the predictor Deployment and Service in RawDeployment (`Standard`) mode, the storage
initializer with the serving user's S3 login from the Secret `up` makes, and the status conditions.

kwok runs no containers: the pods turn Ready by kwok's stages (tests/real/test_kserve_server.py runs the
server and the storage initializer themselves).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitopslab.model.config import LabConfig
from gitopslab.model.versions import IMAGES
from gitopslab.stack import app_secrets
from gitopslab.stack.cluster_layer import RUNTIME_CLASS, ClusterLayer
from gitopslab.stack.delivery import INITIAL_MODEL_OVERLAYS, ModelPin, pin_in_tree
from tests.conftest import REPO, need
from tests.real import kserve_controller as kc
from tests.real.cluster_fixtures import ClusterLab, GitOps, argocd_api, kubectl
from tests.real.cluster_harness import HarnessError, RealCluster, program

NS, PRD = "ml-dev", "ml-prd"
# The profile's Applications as `up --profile kserve --profile gpu` gives them (base/platform/kserve-gpu:
# ml-prd's predictor on the GPU node): the ML team's InferenceServices, the App team's Service in app-dev.
APPS = ("ml-dev-models", "ml-prd-models", "app-dev-models")


@dataclass
class Served:
    pin: ModelPin
    isvc: dict[str, Any]
    controller: kc.KServeController
    tree: Path
    rendered: list[dict[str, Any]]
    before_secret: tuple[str, str]  # doctor's ml-prd line (status, detail) while its kserve-s3 was missing


def _tree_doc(tree: Path, path: str) -> dict[str, Any]:
    return dict(yaml.safe_load((tree / path).read_text()))


def _ready(obj: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions") or []}


@pytest.fixture(scope="module")
def kserve(argocd_up: ClusterLayer, cluster: RealCluster, cluster_lab: ClusterLab, gitops: GitOps,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "real-stack" / "build.py"), "serving"],
                          capture_output=True, text=True, timeout=5400)
    need(done.returncode == 0, f"scripts/real-stack/build.py serving failed:\n{done.stderr[-3000:]}")
    kube = kubectl(cluster_lab)
    controller = kc.KServeController(cluster, tmp_path_factory.mktemp("kserve-controller"))
    rendered: list[dict[str, Any]] = []
    try:
        kc.crds(cluster)
        rendered = kc.platform(cluster, gitops.tree, controller.webhook_port, controller.ca)
        controller.start()
        rendered += kc.apply_after_start(cluster, rendered, gitops.tree)
        # The serving user's Secrets exactly as `up` renders them (stack/app_secrets.py): ml-dev's now, ml-prd's
        # once doctor has seen what the controller does without it.
        made = {o["metadata"]["namespace"]: o for o in app_secrets.objects(
            LabConfig(kserve=True), {"s3_kserve_secret_key": secrets.token_hex(16)}
            | {k: "unused" for k in ("minio_root_user", "minio_root_password", "s3_mlflow_secret_key",
                                     "s3_serving_secret_key")})
            if o["kind"] == "Secret" and o["metadata"]["name"] == "kserve-s3"}
        kube.apply(stdin=yaml.safe_dump(made[NS]))
        kube.apply(stdin=yaml.safe_dump(RUNTIME_CLASS))  # what the gpu profile's cluster.gpu step applies
        # `up`'s first pin (update-gitops.sh, both ML overlays), then the profile's Applications.
        pin = ModelPin(model_object=f"s3://ml-models/iris-{secrets.token_hex(6)}.joblib", model_sha=secrets.token_hex(32))
        pin_in_tree(gitops.tree, pin, model_overlays=INITIAL_MODEL_OVERLAYS)
        gitops.commit("pin the model for the InferenceServices (update-gitops.sh)")
        built = subprocess.run([str(program("kustomize")), "build", str(gitops.tree / "base" / "platform" / "kserve-gpu")],
                               capture_output=True, text=True, timeout=60, check=True).stdout
        apps = [d for d in yaml.safe_load_all(built) if d["metadata"]["name"] in APPS]
        cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(apps))
        with argocd_api(cluster, cluster_lab) as argocd:
            argocd.refresh("ml-dev-models")
        before_secret = kc.wait_for(lambda: _doctor_line(cluster_lab, PRD, "kserve-s3"),
                                    f"doctor naming {PRD}/iris's missing Secret", 240, controller.log)
        kube.apply(stdin=yaml.safe_dump(made[PRD]))

        def isvc_ready() -> dict[str, Any] | None:
            live = kube.exists("inferenceservice", "iris", NS)
            if live and live.get("spec", {}).get("predictor", {}).get("model", {}).get("storageUri") == pin.model_object \
                    and _ready(live).get("Ready") == "True":
                return live
            return None

        isvc = kc.wait_for(isvc_ready, f"InferenceService {NS}/iris synced by Argo CD and Ready", 240, controller.log)
        yield Served(pin, isvc, controller, gitops.tree, rendered, before_secret)
    except HarnessError as exc:
        pytest.fail(f"{exc}\ncontroller log tail:\n{controller.log()}")
    finally:
        try:
            cluster.remove_applications(*APPS)  # while the controller runs: it removes the isvc's finalizer
        finally:
            kc.remove_webhooks(cluster, rendered)
            controller.stop()
            cluster.kubectl("delete", "runtimeclass", RUNTIME_CLASS["metadata"]["name"], "--ignore-not-found",
                            check=False)


def _doctor_line(cluster_lab: ClusterLab, ns: str, seen: str = "") -> tuple[str, str] | None:
    """doctor's line for ns/iris (status, detail), once its detail mentions `seen`."""
    from gitopslab.doctor import serving
    from gitopslab.doctor.probe import Probe

    ctx = cluster_lab.ctx
    probe = Probe(ctx.cfg.model_copy(update={"kserve": True}), ctx.topo, ctx.state, timeout=10)
    line = next((r for r in serving.inference_services(probe) if r.name == f"inferenceservice-{ns}-iris"), None)
    return (str(line.status), line.detail) if line is not None and seen in line.detail else None


def _predictor(cluster_lab: ClusterLab, kind: str) -> dict[str, Any]:
    found = kubectl(cluster_lab).exists(kind, "iris-predictor", NS)
    assert found, f"the controller made no {kind} iris-predictor in {NS}"
    return found


def _pod(cluster_lab: ClusterLab, ns: str = NS) -> dict[str, Any]:
    pods = [p for p in kubectl(cluster_lab).get_json("pods", namespace=ns)["items"]
            if p["metadata"].get("labels", {}).get("serving.kserve.io/inferenceservice") == "iris"
            and not p["metadata"].get("deletionTimestamp")]
    assert pods, f"no predictor pod of iris in {ns}"
    return pods[-1]


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env") or []}


def test_the_controller_makes_the_predictor_deployment_the_tree_asks_for(kserve: Served, cluster_lab: ClusterLab) -> None:
    deploy = _predictor(cluster_lab, "deployment")
    owner = deploy["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("InferenceService", "iris")
    spec = deploy["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "kserve-models"  # base/ml/kserve-iris: the serving user's Secret
    [server] = spec["containers"]
    assert server["name"] == "kserve-container" and server["image"] == IMAGES["kserve-sklearnserver"]
    assert server["args"] == ["--model_name=iris", "--model_dir=/mnt/models", "--http_port=8080"]
    wanted = _tree_doc(kserve.tree, "base/ml/kserve-iris/inferenceservice.yaml")["spec"]["predictor"]["model"]
    assert server["resources"] == wanted["resources"]
    assert _env(server)["PREDICT_PROBA"] == "true"
    annotations = deploy["spec"]["template"]["metadata"]["annotations"]
    assert annotations["serving.kserve.io/deploymentMode"] == "Standard"
    assert annotations["internal.serving.kserve.io/storage-initializer-sourceuri"] == kserve.pin.model_object
    assert annotations["gitopslab.io/model-sha256"] == kserve.pin.model_sha


def test_the_pod_mutator_injects_the_storage_initializer_with_the_serving_users_login(kserve: Served,
                                                                                       cluster_lab: ClusterLab) -> None:
    pod = _pod(cluster_lab)
    [init] = [c for c in pod["spec"].get("initContainers") or [] if c["name"] == "storage-initializer"]
    assert init["image"] == IMAGES["kserve-storage-initializer"]
    assert init["args"] == [kserve.pin.model_object, "/mnt/models"]
    env = _env(init)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # the read-only user's Secret, never minio-root
        assert env[key] == {"secretKeyRef": {"key": key, "name": "kserve-s3"}}
    secret = kubectl(cluster_lab).get_json("secret", "kserve-s3", NS)
    assert secret["data"]["AWS_ACCESS_KEY_ID"] == "Z2l0b3BzbGFiLWtzZXJ2ZQ=="  # base64("gitopslab-kserve")
    endpoint = secret["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"]
    assert env["S3_ENDPOINT"] == endpoint and env["AWS_ENDPOINT_URL"] == f"http://{endpoint}"
    assert (env["S3_USE_HTTPS"], env["S3_VERIFY_SSL"], env["AWS_DEFAULT_REGION"]) == ("0", "0", "us-east-1")
    # Its limits are the tree's values.yaml (kserve.storage.resources), through the ClusterStorageContainer.
    values = _tree_doc(kserve.tree, "base/platform/kserve/values.yaml")["kserve"]["storage"]
    assert init["resources"] == values["resources"]
    [server] = pod["spec"]["containers"]
    mounts = {m["mountPath"]: m for m in server.get("volumeMounts") or []}
    assert mounts["/mnt/models"].get("readOnly") is True


def test_the_predictor_service_is_what_the_lab_points_at(kserve: Served, cluster_lab: ClusterLab) -> None:
    service = _predictor(cluster_lab, "service")
    [port] = service["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (80, 8080)
    # The App team's Service (clusters/app-dev/models) names the controller's Service, as its address says.
    external = _tree_doc(kserve.tree, "clusters/app-dev/models/service.yaml")["spec"]["externalName"]
    assert kserve.isvc["status"]["address"]["url"] == f"http://{external}"
    synced = kubectl(cluster_lab).get_json("service", "iris-model", "app-dev")
    assert synced["spec"]["externalName"] == external
    # models.localhost's NodePort Service (clusters/ml-dev/models) selects the predictor pod, on its port.
    nodeport = kubectl(cluster_lab).get_json("service", "iris-models", NS)
    labels = _pod(cluster_lab)["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in nodeport["spec"]["selector"].items())
    assert nodeport["spec"]["ports"][0]["targetPort"] == 8080
    # The namespaces' guardrails let other teams' pods reach exactly these pods on the server's port.
    policies = {d["metadata"]["name"]: d["spec"] for d in
                yaml.safe_load_all((kserve.tree / "base/platform/guardrails/networkpolicies.yaml").read_text())}
    [rule] = policies["allow-model-serving"]["egress"]
    [selector] = rule["to"][0]["podSelector"]["matchExpressions"]
    assert selector["operator"] == "Exists" and selector["key"] in labels
    assert {"protocol": "TCP", "port": 8080} in rule["ports"]
    assert {"protocol": "TCP", "port": 8080} in policies["allow-served-ports"]["ingress"][0]["ports"]


def test_the_controller_sets_the_inferenceservice_ready_in_standard_mode(kserve: Served, cluster_lab: ClusterLab) -> None:
    live = kubectl(cluster_lab).get_json("inferenceservice", "iris", NS)
    conditions = _ready(live)
    assert {k: conditions.get(k) for k in ("PredictorReady", "IngressReady", "Ready")} == \
        {"PredictorReady": "True", "IngressReady": "True", "Ready": "True"}
    status = live["status"]
    assert status["deploymentMode"] == "Standard"
    assert status["clusterServingRuntimeName"] == "kserve-sklearnserver"  # the one runtime runtimes.yaml keeps
    assert status["modelStatus"]["states"]["activeModelState"] == "Loaded"


def test_doctor_reads_the_real_controllers_status(kserve: Served, cluster_lab: ClusterLab) -> None:
    """doctor's InferenceService lines on what the real controller wrote: Ready, and the address that
    answers in the cluster (not the status URL KServe derives from an ingress domain the lab has not)."""
    assert _doctor_line(cluster_lab, NS) == ("ok", f"{NS}/iris Ready (http://iris-predictor.{NS}.svc.cluster.local)")
    # Before `up` made ml-prd's kserve-s3, the pod mutator refused the predictor's pod: doctor says so.
    status, detail = kserve.before_secret
    assert status == "fail" and 'secrets "kserve-s3" not found' in detail and detail.startswith(f"{PRD}/iris not Ready")


def test_argocd_reports_the_models_apps_synced_and_healthy(kserve: Served, cluster: RealCluster,
                                                           cluster_lab: ClusterLab) -> None:
    """Argo CD's own health check of the kind reads the conditions the controller sets; the webhook's
    defaults (the isvc defaulter) must not leave the app OutOfSync."""
    with argocd_api(cluster, cluster_lab) as argocd:
        def ready() -> dict[str, tuple[str, str]] | None:
            states = {a.name: (a.sync, a.health) for a in argocd.applications() if a.name in APPS}
            return states if all(s == ("Synced", "Healthy") for s in states.values()) and len(states) == len(APPS) \
                else None

        kc.wait_for(ready, f"{', '.join(APPS)} Synced/Healthy", 180,
                    lambda: json.dumps({a.name: (a.sync, a.health, a.conditions) for a in argocd.applications()
                                        if a.name in APPS}))


def test_a_new_model_pin_rolls_the_predictor(kserve: Served, cluster: RealCluster, cluster_lab: ClusterLab,
                                            gitops: GitOps) -> None:
    pin = ModelPin(model_object=f"s3://ml-models/iris-{secrets.token_hex(6)}.joblib", model_sha=secrets.token_hex(32))
    pin_in_tree(gitops.tree, pin)
    gitops.commit("pin a retrained model (update-gitops.sh)")
    with argocd_api(cluster, cluster_lab) as argocd:
        argocd.refresh("ml-dev-models")

    def rolled() -> str | None:
        pod = _pod(cluster_lab)
        init = [c for c in pod["spec"].get("initContainers") or [] if c["name"] == "storage-initializer"]
        return pod["metadata"]["name"] if init and init[0]["args"][0] == pin.model_object else None

    kc.wait_for(rolled, "a predictor pod whose storage initializer downloads the new pin", 180, kserve.controller.log)


def test_with_the_gpu_profile_the_prd_predictor_runs_on_the_gpu_node(kserve: Served, cluster_lab: ClusterLab) -> None:
    """clusters/ml-prd/models-gpu (base/ml/kserve-gpu) through the real controller: the predictor requests
    nvidia.com/gpu: 1 with the nvidia RuntimeClass and lands on the GPU node."""
    def placed() -> dict[str, Any] | None:
        pods = [p for p in kubectl(cluster_lab).get_json("pods", namespace=PRD)["items"]
                if p["metadata"].get("labels", {}).get("serving.kserve.io/inferenceservice") == "iris"
                and p["status"].get("phase") == "Running"]
        return pods[0] if pods else None

    pod = kc.wait_for(placed, f"a Running predictor pod of iris in {PRD}", 120, lambda: "\n".join(
        kubectl(cluster_lab).run(*args) for args in (("get", "deploy,rs,pods", "-n", PRD, "-o", "wide"),
                                                     ("get", "events", "-n", PRD))))
    assert pod["spec"]["nodeName"].endswith("-gpu-0")
    assert pod["spec"]["runtimeClassName"] == RUNTIME_CLASS["metadata"]["name"]
    [server] = pod["spec"]["containers"]
    assert server["resources"]["limits"]["nvidia.com/gpu"] == "1"
    [init] = [c for c in pod["spec"].get("initContainers") or [] if c["name"] == "storage-initializer"]
    assert init["args"] == [kserve.pin.model_object, "/mnt/models"]  # the promoted pin, the same bytes
