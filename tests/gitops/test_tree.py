"""The shipped gitops/ tree: every overlay builds, every object validates, lint is clean, and the
contract with the delivery flow (contract-hello.md) and topology.py holds."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from gitopslab.lint import lint, shipped_gitops_dir
from gitopslab.lint.footprint import CORE_BUDGET_BYTES, memory_limits, total
from gitopslab.lint.loader import find_kubectl, load
from gitopslab.lint.workloads import containers, pod_spec
from gitopslab.model.topology import CLUSTER_PLACEMENT
from gitopslab.model.versions import IMAGES

GITOPS = shipped_gitops_dir()
_ALL = sorted(p.parent for p in GITOPS.rglob("kustomization.yaml"))
# A kustomize Component (base/ml/gpu) builds only inside an overlay: ml-prd builds it (test_gpu_variant...).
COMPONENTS = [d for d in _ALL if yaml.safe_load((d / "kustomization.yaml").read_text()).get("kind") == "Component"]
KUSTOMIZATIONS = [d for d in _ALL if d not in COMPONENTS]
LAB_IMAGE = "registry.localhost:5002/hello-api:"


@pytest.fixture(scope="module")
def tree():  # type: ignore[no-untyped-def]
    return load(GITOPS)


def built(tree, root: str) -> dict[tuple[str, str], dict]:  # type: ignore[no-untyped-def]
    return {(o.kind, o.name): o.data for o in tree.builds[root]}


@pytest.mark.parametrize("kdir", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(GITOPS)))
def test_every_kustomization_builds(kdir: Path) -> None:
    proc = subprocess.run([find_kubectl(), "kustomize", str(kdir)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert list(yaml.safe_load_all(proc.stdout))


def test_components_are_used_by_an_overlay() -> None:
    assert [d.relative_to(GITOPS).as_posix() for d in COMPONENTS] == ["base/ml/gpu", "base/ml/kserve-gpu"]
    kust = yaml.safe_load((GITOPS / "clusters/ml-prd/kustomization.yaml").read_text())
    assert kust["components"] == ["../../base/ml/gpu"]
    kust = yaml.safe_load((GITOPS / "clusters/ml-prd/models-gpu/kustomization.yaml").read_text())
    assert kust["components"] == ["../../../base/ml/kserve-gpu"]


def test_shipped_tree_lints_clean(schemas_dir: Path) -> None:
    report = lint(GITOPS, schemas=str(schemas_dir))
    assert [f.to_dict() for f in report.findings] == []
    assert report.exit_code == 0 and report.objects > 40 and report.kustomizations >= 16


def test_cli_lint_without_path_is_the_shipped_tree(schemas_dir: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from gitopslab.cli import main

    monkeypatch.setenv("GITOPSLAB_SCHEMAS", str(schemas_dir))
    assert main(["lint"]) == 0
    assert "clean: 0 error(s), 0 warning(s)" in capsys.readouterr().out


def test_every_image_is_a_versions_pin_or_the_lab_hello_api(tree) -> None:  # type: ignore[no-untyped-def]
    pins = set(IMAGES.values())
    seen = set()
    for objs in tree.builds.values():
        for obj in objs:
            pod = pod_spec(obj)
            for c in containers(pod or {}):
                seen.add(c["image"])
    top = {c["image"] for o in tree.objects for c in containers(pod_spec(o) or {})}
    assert top, "no workloads found"
    for image in top:
        assert image in pins or image.startswith(LAB_IMAGE), image
    # the base placeholder is only ever deployed through an overlay's `images:` entry
    assert seen - top <= {"hello-api"}


def test_service_names_and_node_ports_follow_the_topology(tree) -> None:  # type: ignore[no-untyped-def]
    node_ports = {"hello_api": 30888, "mlflow": 30902, "minio_api": 30900, "minio_console": 30901,
                  "dashboard": 32443}
    services = {(o.namespace, o.name): o.data for o in tree.objects if o.kind == "Service"}
    for key, port in node_ports.items():
        ns, name = CLUSTER_PLACEMENT[key]
        svc = services[(ns, name)]
        assert svc["spec"]["type"] == "NodePort"
        assert svc["spec"]["ports"][0]["nodePort"] == port
    assert services[("app-dev", "hello-api")]["spec"]["ports"][0]["port"] == 8080
    assert services[("platform", "headlamp")]["spec"]["ports"][0]["port"] == 80
    # only the dev environments carry NodePorts
    for (ns, name), svc in services.items():
        if ns.endswith("-prd"):
            # The App team's door to the ML team's model (kserve profile) is a name, not a port.
            allowed = {"ClusterIP", "ExternalName"} if name == "iris-model" else {"ClusterIP"}
            assert svc["spec"].get("type", "ClusterIP") in allowed, (ns, name)


def test_hello_api_contract(tree) -> None:  # type: ignore[no-untyped-def]
    kust = yaml.safe_load((GITOPS / "clusters/app-dev/kustomization.yaml").read_text())
    assert {"name": "hello-api", "newName": "registry.localhost:5002/hello-api", "newTag": "initial"} in kust["images"]
    patch = yaml.safe_load((GITOPS / "clusters/app-dev/model-configmap.yaml").read_text())
    assert patch["metadata"]["name"] == "hello-api-model" and set(patch["data"]) == {"MODEL_OBJECT", "MODEL_SHA"}
    objs = built(tree, "clusters/app-dev")
    # a generated ConfigMap: hello-api-model-<hash>, and envFrom names exactly that one
    [cm_name] = [name for kind, name in objs if kind == "ConfigMap" and name.startswith("hello-api-model-")]
    cm = objs[("ConfigMap", cm_name)]
    assert cm["data"]["S3_ENDPOINT_URL"] == "http://minio.ml-dev.svc:9000"
    assert set(cm["data"]) == {"MODEL_OBJECT", "MODEL_SHA", "S3_ENDPOINT_URL"}
    [c] = objs[("Deployment", "hello-api")]["spec"]["template"]["spec"]["containers"]
    assert c["image"] == "registry.localhost:5002/hello-api:initial"
    assert c["ports"][0]["containerPort"] == 8080
    assert c["livenessProbe"]["httpGet"]["path"] == "/health" and c["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert {"configMapRef": {"name": cm_name}} in c["envFrom"]
    secret_keys = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c["env"]}
    assert secret_keys["AWS_ACCESS_KEY_ID"] == {"name": "hello-api-s3", "key": "AWS_ACCESS_KEY_ID"}


def test_mlflow_allows_its_hosts_with_ports_and_stores_artifacts_in_minio(tree) -> None:  # type: ignore[no-untyped-def]
    [c] = built(tree, "clusters/ml-dev")[("Deployment", "mlflow")]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    hosts = env["MLFLOW_SERVER_ALLOWED_HOSTS"].split(",")
    assert {"mlflow.localhost:*", "localhost:*", "mlflow.ml-dev.svc:*"} <= set(hosts)
    assert "--artifacts-destination=s3://mlflow" in c["command"]
    assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://minio:9000"


def test_gpu_variant_only_in_ml_prd(tree) -> None:  # type: ignore[no-untyped-def]
    pod = built(tree, "clusters/ml-prd")[("Deployment", "model-serving")]["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["nodeSelector"] == {"gitopslab.io/gpu": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    cpu = built(tree, "clusters/ml-dev")[("Deployment", "model-serving")]["spec"]["template"]["spec"]
    assert "runtimeClassName" not in cpu


def test_core_profile_memory_fits_the_budget(tree) -> None:  # type: ignore[no-untyped-def]
    limits = memory_limits(tree, "core")
    assert limits["Deployment/ml-dev/mlflow"] == 1024**3
    assert limits["Deployment/ml-prd/model-serving"] == 0  # replicas 0 on a laptop
    assert {"Deployment/app-dev/hello-api", "Deployment/platform/headlamp", "Deployment/ml-dev/minio"} <= set(limits)
    assert 0 < total(limits) <= CORE_BUDGET_BYTES
    # the observability profile's own workloads (the chart's pods are counted from its values apart)
    assert set(memory_limits(tree, "observability")) == {"Deployment/monitoring/alert-receiver"}


def test_secrets_are_referenced_never_committed(tree) -> None:  # type: ignore[no-untyped-def]
    assert not [o.ref for objs in tree.builds.values() for o in objs if o.kind == "Secret"]
    assert not [o.ref for o in tree.objects if o.kind == "Secret"]
    refs = set()
    for o in tree.objects:
        for c in containers(pod_spec(o) or {}):
            for e in c.get("env") or []:
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    refs.add((o.namespace, ref["name"], ref["key"]))
    assert refs == {
        ("ml-dev", "minio-root", "MINIO_ROOT_USER"), ("ml-dev", "minio-root", "MINIO_ROOT_PASSWORD"),
        ("ml-dev", "mlflow-s3", "AWS_ACCESS_KEY_ID"), ("ml-dev", "mlflow-s3", "AWS_SECRET_ACCESS_KEY"),
        ("app-dev", "hello-api-s3", "AWS_ACCESS_KEY_ID"), ("app-dev", "hello-api-s3", "AWS_SECRET_ACCESS_KEY"),
        ("app-prd", "hello-api-s3", "AWS_ACCESS_KEY_ID"), ("app-prd", "hello-api-s3", "AWS_SECRET_ACCESS_KEY"),
    }


def test_every_team_env_has_an_app_a_project_and_guardrails(tree) -> None:  # type: ignore[no-untyped-def]
    from gitopslab.lint.apps import applications

    apps = {a.name: a for a in applications(tree)}
    for env in ("ml-dev", "ml-prd", "app-dev", "app-prd"):
        assert apps[env].project == env and apps[env].destination["namespace"] == env
        assert apps[f"guardrails-{env}"].project == "platform"
        kinds = {o.kind for o in tree.builds[f"clusters/{env}/guardrails"]}
        assert kinds == {"ResourceQuota", "LimitRange", "NetworkPolicy"}
    assert apps["root"].spec["source"]["path"] == "_main_apps"
    from gitopslab.model import versions

    pinned = {getattr(versions, name) for name in dir(versions) if name.endswith("_CHART")}
    for app in apps.values():
        for src in app.sources:
            if "chart" in src:  # a named chart repository, pinned in versions.py
                assert (src["chart"], src["targetRevision"], src["repoURL"]) in pinned, app.name
            else:
                assert src["repoURL"] == "http://gitea.localhost:3000/platform/gitops.git", app.name
