"""Issue 27: the kserve profile's GitOps objects. KServe in RawDeployment mode through Argo CD with the
pinned charts, the ML team's InferenceService in ml-dev and ml-prd pinned like hello-api's model (the
overlay's model-configmap.yaml becomes storageUri), the GPU request only in the gpu variant of ml-prd,
InferenceServices whitelisted by the ML projects only, and the App team's Service in front."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitopslab.lint import shipped_gitops_dir
from gitopslab.lint.loader import find_kubectl
from gitopslab.model import versions
from gitopslab.stack import delivery
from gitopslab.stack.delivery import ModelPin

GITOPS = shipped_gitops_dir()


def render(root: Path, overlay: str) -> dict[tuple[str, str], dict[str, Any]]:
    proc = subprocess.run([find_kubectl(), "kustomize", str(root / overlay)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(proc.stdout) if o}


def test_the_profile_entry_installs_kserve_through_argo_cd_with_the_pinned_charts() -> None:
    entry = yaml.safe_load((GITOPS / "profiles/kserve.yaml").read_text())
    assert entry["spec"]["project"] == "platform" and entry["spec"]["source"]["path"] == "base/platform/kserve"
    gpu = yaml.safe_load((GITOPS / "profiles/kserve-gpu.yaml").read_text())
    assert gpu["metadata"]["name"] == entry["metadata"]["name"]
    assert gpu["spec"]["source"]["path"] == "base/platform/kserve-gpu"
    apps = {name: app for (kind, name), app in render(GITOPS, "base/platform/kserve").items()}
    charts = {(s["chart"], s["targetRevision"], s["repoURL"]) for a in apps.values()
              for s in a["spec"].get("sources") or [a["spec"]["source"]] if "chart" in s}
    assert charts == {versions.CERT_MANAGER_CHART, versions.KSERVE_CRD_CHART, versions.KSERVE_RESOURCES_CHART,
                      versions.KSERVE_RUNTIME_CONFIGS_CHART}
    waves = {name: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for name, a in apps.items()}
    assert waves["cert-manager"] == waves["kserve-crd"] < waves["kserve"] < waves["kserve-runtimes"] < waves["ml-dev-models"]
    assert {apps[f"{t}-{e}-models"]["spec"]["project"] for t in ("ml", "app") for e in ("dev", "prd")} == {
        "ml-dev", "ml-prd", "app-dev", "app-prd"}


def test_the_controller_runs_in_rawdeployment_mode_without_knative_or_istio() -> None:
    values = yaml.safe_load((GITOPS / "base/platform/kserve/values.yaml").read_text())["kserve"]
    # KServe v0.20.0 names RawDeployment `Standard` (pkg/constants: LegacyRawDeployment -> Standard).
    assert values["controller"]["deploymentMode"] == "Standard"
    assert values["controller"]["gateway"]["disableIngressCreation"] is True
    for key, role in (("controller", "kserve-controller"), ("storage", "kserve-storage-initializer")):
        assert f"{values[key]['image']}:{values[key]['tag']}" == versions.IMAGES[role]
    runtimes = yaml.safe_load((GITOPS / "base/platform/kserve/runtimes.yaml").read_text())["kserve"]["servingruntime"]
    enabled = [n for n, r in runtimes.items() if isinstance(r, dict) and r.get("disabled") is False]
    assert enabled == ["sklearnserver"]
    sk = runtimes["sklearnserver"]
    assert f"{sk['image']}:{sk['tag']}" == versions.IMAGES["kserve-sklearnserver"]


def test_the_inferenceservice_serves_the_pinned_model_with_the_serving_login(tmp_path: Path) -> None:
    tree = Path(shutil.copytree(GITOPS, tmp_path / "gitops"))
    pin = tree / "clusters/ml-dev/models/model-configmap.yaml"
    doc = yaml.safe_load(pin.read_text())
    doc["data"] = {"MODEL_OBJECT": "s3://ml-models/iris-abc123.joblib", "MODEL_SHA": "f" * 64}
    pin.write_text(yaml.safe_dump(doc))
    objs = render(tree, "clusters/ml-dev/models")
    isvc = objs[("InferenceService", "iris")]
    assert isvc["metadata"]["namespace"] == "ml-dev"
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    assert isvc["metadata"]["annotations"]["gitopslab.io/model-sha256"] == "f" * 64
    predictor = isvc["spec"]["predictor"]
    assert predictor["model"]["modelFormat"]["name"] == "sklearn"
    assert predictor["model"]["storageUri"] == "s3://ml-models/iris-abc123.joblib"
    assert "nvidia.com/gpu" not in yaml.safe_dump(predictor)
    sa = objs[("ServiceAccount", predictor["serviceAccountName"])]
    assert sa["secrets"] == [{"name": "kserve-s3"}]  # made by `up` with the serving user's login, not in Git
    assert not any(kind == "Secret" for kind, _ in objs)
    models = objs[("Service", "iris-models")]
    assert models["spec"]["type"] == "NodePort" and models["spec"]["ports"][0]["nodePort"] == 30980
    assert models["spec"]["selector"] == {"serving.kserve.io/inferenceservice": "iris"}


def test_prd_is_promoted_by_its_own_pin_and_requests_a_gpu_only_with_the_gpu_profile() -> None:
    cpu = render(GITOPS, "clusters/ml-prd/models")[("InferenceService", "iris")]
    gpu = render(GITOPS, "clusters/ml-prd/models-gpu")[("InferenceService", "iris")]
    assert cpu["metadata"]["namespace"] == gpu["metadata"]["namespace"] == "ml-prd"
    assert "nvidia.com/gpu" not in yaml.safe_dump(cpu)
    resources = gpu["spec"]["predictor"]["model"]["resources"]
    # A string, as KServe's defaulting webhook stores it (an int 1 kept Argo CD OutOfSync: tests/real/test_kserve_controller.py)
    assert resources["requests"]["nvidia.com/gpu"] == "1" and resources["limits"]["nvidia.com/gpu"] == "1"
    assert gpu["spec"]["predictor"]["runtimeClassName"] == "nvidia"
    gpu_apps = {n: a for (_, n), a in render(GITOPS, "base/platform/kserve-gpu").items()}
    assert gpu_apps["ml-prd-models"]["spec"]["source"]["path"] == "clusters/ml-prd/models-gpu"
    assert gpu_apps["ml-prd-models"]["spec"]["source"]["targetRevision"] == "main"
    # ml-prd has no NodePort: only the dev environments carry them.
    assert ("Service", "iris-models") not in render(GITOPS, "clusters/ml-prd/models")


@pytest.mark.parametrize("project", ["ml-dev", "ml-prd", "app-dev", "app-prd"])
def test_only_the_ml_projects_whitelist_inferenceservices(project: str) -> None:
    spec = yaml.safe_load((GITOPS / f"projects/{project}.yaml").read_text())["spec"]
    listed = {"group": "serving.kserve.io", "kind": "InferenceService"} in spec["namespaceResourceWhitelist"]
    assert listed == project.startswith("ml-")


@pytest.mark.parametrize("env", ["dev", "prd"])
def test_the_app_team_consumes_the_model_through_its_own_service(env: str) -> None:
    objs = render(GITOPS, f"clusters/app-{env}/models")
    assert list(objs) == [("Service", "iris-model")]
    svc = objs[("Service", "iris-model")]
    assert svc["metadata"]["namespace"] == f"app-{env}"
    assert svc["spec"] == {"type": "ExternalName", "externalName": f"iris-predictor.ml-{env}.svc.cluster.local"}


FIRST = ModelPin(model_object="s3://ml-models/iris-0123456789ab.joblib", model_sha="a" * 64)


def _isvc_pin(root: Path, overlay: str) -> tuple[str, str]:
    isvc = render(root, overlay)[("InferenceService", "iris")]
    return isvc["spec"]["predictor"]["model"]["storageUri"], isvc["metadata"]["annotations"]["gitopslab.io/model-sha256"]


def test_the_pipeline_pins_the_inferenceservice_in_ml_dev_and_leaves_ml_prd_to_promotion(tmp_path: Path) -> None:
    tree = Path(shutil.copytree(GITOPS, tmp_path / "gitops"))
    before = render(tree, "clusters/ml-prd/models")
    delivery.pin_in_tree(tree, FIRST, tag="abc1234")  # what the pipeline's update-gitops step does
    assert _isvc_pin(tree, "clusters/ml-dev/models") == (FIRST.model_object, FIRST.model_sha)
    assert render(tree, "clusters/ml-prd/models") == before


def test_up_pins_both_ml_environments_as_it_does_app_prd(tmp_path: Path) -> None:
    tree = Path(shutil.copytree(GITOPS, tmp_path / "gitops"))
    delivery.pin_in_tree(tree, FIRST, tag=delivery.INITIAL_TAG, overlays=delivery.INITIAL_OVERLAYS,
                         model_overlays=delivery.INITIAL_MODEL_OVERLAYS)
    for overlay in ("clusters/ml-dev/models", "clusters/ml-prd/models", "clusters/ml-prd/models-gpu"):
        assert _isvc_pin(tree, overlay) == (FIRST.model_object, FIRST.model_sha), overlay


def test_a_tree_without_the_kserve_overlay_is_pinned_as_before(tmp_path: Path) -> None:
    tree = Path(shutil.copytree(GITOPS, tmp_path / "gitops"))
    shutil.rmtree(tree / "clusters/ml-dev/models")
    delivery.pin_in_tree(tree, FIRST, tag="abc1234")
    assert FIRST.model_object in (tree / "clusters/app-dev/model-configmap.yaml").read_text()
