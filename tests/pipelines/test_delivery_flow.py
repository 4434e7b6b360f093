"""train -> upload -> update-gitops, for real: the step scripts the pipeline runs, against a real
MLflow server (sqlite + artifacts proxied to S3), a real S3 API (moto) and a real bare git repo."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml
from mlflow import MlflowClient

from tests.pipelines.conftest import REPO, git
from tests.support import services


def step(app_repo: Path, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one CI step script as Woodpecker would: in the workspace, environment from the YAML."""
    full = {**os.environ, "CI_VENV": str(Path(sys.prefix)), **env}
    result = subprocess.run(["sh", f"scripts/ci/{script}"], cwd=app_repo, env=full, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"{script} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def s3_client(url: str):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=services.S3_KEYS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=services.S3_KEYS["AWS_SECRET_ACCESS_KEY"])


def changed_lines(repo: Path) -> list[str]:
    diff = git(repo, "diff", "-U0", "HEAD~1", "HEAD")
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def clone(remote: Path, dest: Path) -> Path:
    git(remote.parent, "clone", "-q", str(remote), str(dest))
    return dest


@pytest.mark.timeout(420)
def test_push_flow_trains_registers_uploads_and_pins(app_repo, gitops_remote, mlflow, s3, tmp_path) -> None:
    head = git(app_repo, "rev-parse", "HEAD").strip()
    short = head[:7]
    env = {"CI_COMMIT_SHA": head, "CI_PIPELINE_EVENT": "push", "MLFLOW_TRACKING_URI": mlflow.url,
           "S3_ENDPOINT_URL": s3.url, **services.S3_KEYS,
           "GITOPS_REPO": f"file://{gitops_remote}", "IMAGE_TAG_FILE": ".tags"}

    step(app_repo, "train.sh", env)
    trained = json.loads((app_repo / "dist" / "train.json").read_text())
    step(app_repo, "upload.sh", env)
    out = step(app_repo, "update-gitops.sh", env)
    assert f"hello-api:{short}" in out.stdout

    # MLflow holds the run, its metrics, and a new registered version tagged with the artifact's digest.
    client = MlflowClient(tracking_uri=mlflow.url)
    run = client.get_run(trained["run_id"])
    assert run.data.metrics["accuracy"] > 0.9 and "f1_macro" in run.data.metrics
    assert run.data.params["C"] == "1.0"
    assert run.data.tags["artifact_sha256"] == trained["sha256"]
    versions = client.search_model_versions("name='iris-classifier'")
    assert [v.version for v in versions] == ["1"] and versions[0].run_id == trained["run_id"]
    assert versions[0].tags["artifact_sha256"] == trained["sha256"]

    # The object exists under the contract's key and its bytes hash to what training recorded.
    key = f"iris-{short}.joblib"
    body = s3_client(s3.url).get_object(Bucket="ml-models", Key=key)["Body"].read()
    digest = hashlib.sha256(body).hexdigest()
    assert digest == trained["sha256"] == (app_repo / "dist" / "model.sha256").read_text().strip()
    assert (app_repo / ".tags").read_text().strip() == short

    # The GitOps commit changes exactly the tag and the two model keys, and skips CI.
    repo = clone(gitops_remote, tmp_path / "check")
    assert "[skip ci]" in git(repo, "log", "-1", "--format=%B")
    assert git(repo, "diff", "--name-only", "HEAD~1", "HEAD").split() == [
        "clusters/app-dev/kustomization.yaml", "clusters/app-dev/model-configmap.yaml"]
    assert sorted(changed_lines(repo)) == sorted([
        '-    newTag: "initial"', f'+    newTag: "{short}"',
        '-  MODEL_OBJECT: "s3://ml-models/iris-initial.joblib"', f'+  MODEL_OBJECT: "s3://ml-models/{key}"',
        f'-  MODEL_SHA: "{"0" * 64}"', f'+  MODEL_SHA: "{digest}"',
    ])
    kustomization = yaml.safe_load((repo / "clusters/app-dev/kustomization.yaml").read_text())
    assert kustomization["images"] == [{"name": "hello-api", "newName": "registry.localhost:5002/hello-api",
                                        "newTag": short}]

    # Running the step again changes nothing: no empty commit.
    step(app_repo, "update-gitops.sh", env)
    assert git(clone(gitops_remote, tmp_path / "again"), "rev-list", "--count", "HEAD").strip() == "2"


@pytest.mark.timeout(420)
def test_cron_retrain_registers_a_new_version_and_keeps_the_image(app_repo, gitops_remote, mlflow, s3,
                                                                   tmp_path) -> None:
    head = git(app_repo, "rev-parse", "HEAD").strip()
    base = {"CI_COMMIT_SHA": head, "MLFLOW_TRACKING_URI": mlflow.url, "S3_ENDPOINT_URL": s3.url,
            **services.S3_KEYS, "GITOPS_REPO": f"file://{gitops_remote}"}
    for env in ({**base, "CI_PIPELINE_EVENT": "push", "IMAGE_TAG_FILE": ".tags"},
                {**base, "CI_PIPELINE_EVENT": "cron", "CI_PIPELINE_NUMBER": "7", "TRAIN_C": "0.5"}):
        for script in ("train.sh", "upload.sh", "update-gitops.sh"):
            step(app_repo, script, env)

    versions = MlflowClient(tracking_uri=mlflow.url).search_model_versions("name='iris-classifier'")
    assert sorted(v.version for v in versions) == ["1", "2"]
    keys = sorted(o["Key"] for o in s3_client(s3.url).list_objects_v2(Bucket="ml-models")["Contents"])
    assert keys == [f"iris-{head[:7]}-r7.joblib", f"iris-{head[:7]}.joblib"]

    repo = clone(gitops_remote, tmp_path / "check")
    assert git(repo, "diff", "--name-only", "HEAD~1", "HEAD").split() == ["clusters/app-dev/model-configmap.yaml"]
    assert "[skip ci]" in git(repo, "log", "-1", "--format=%B")
    data = yaml.safe_load((repo / "clusters/app-dev/model-configmap.yaml").read_text())["data"]
    assert data["MODEL_OBJECT"] == f"s3://ml-models/iris-{head[:7]}-r7.joblib"
    assert data["S3_ENDPOINT_URL"] == "http://minio.ml-dev.svc:9000"


def test_upload_refuses_to_overwrite_a_pinned_object(app_repo, s3, tmp_path) -> None:
    dist = tmp_path / "dist"
    env = {**os.environ, **services.S3_KEYS, "S3_ENDPOINT_URL": s3.url}
    for c in ("1.0", "0.3"):
        subprocess.run([sys.executable, "train.py", "--model-id", "x", "--out", str(dist), "--C", c],
                       cwd=app_repo, check=True, capture_output=True, env={**env, "MLFLOW_TRACKING_URI": ""})
        result = subprocess.run([sys.executable, "scripts/upload_model.py", "--model-id", "same", "--dist", str(dist)],
                                cwd=app_repo, capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "objects are immutable" in result.stderr


def test_update_gitops_names_a_missing_images_entry(app_repo, tmp_path) -> None:
    tree = tmp_path / "tree" / "clusters" / "app-dev"
    tree.mkdir(parents=True)
    (tree / "kustomization.yaml").write_text("resources: [x.yaml]\nimages:\n  - name: other\n    newTag: a\n")
    (tree / "model-configmap.yaml").write_text("data:\n  MODEL_OBJECT: a\n  MODEL_SHA: b\n")
    result = subprocess.run(["sh", "scripts/ci/update-gitops.sh", "--edit-only", str(tmp_path / "tree")],
                            cwd=app_repo, capture_output=True, text=True,
                            env={**os.environ, "IMAGE_TAG": "abc", "MODEL_OBJECT": "s3://m/k", "MODEL_SHA": "f" * 64})
    assert result.returncode == 1
    assert "no images entry 'name: hello-api'" in result.stderr


def _served_model_uri() -> str:
    """The model URI the ML team's model server is started with, read from the shipped manifest."""
    deployment = yaml.safe_load((REPO / "gitops/base/ml/model-serving/deployment.yaml").read_text())
    [server] = deployment["spec"]["template"]["spec"]["containers"]
    return next(a.split("=", 1)[1] for a in server["command"] if a.startswith("--model-uri="))


@pytest.mark.timeout(420)
def test_the_model_server_uri_resolves_to_the_version_each_train_step_registers(app_repo, mlflow, s3,
                                                                                 monkeypatch) -> None:
    # Issue 22.8: the server read models:/iris@production, a model and alias nobody made (a crash loop).
    import mlflow as mlflow_lib

    uri = _served_model_uri()
    head = git(app_repo, "rev-parse", "HEAD").strip()
    env = {"CI_COMMIT_SHA": head, "MLFLOW_TRACKING_URI": mlflow.url, "S3_ENDPOINT_URL": s3.url, **services.S3_KEYS}
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow.url)
    for event, extra in (("push", {}), ("cron", {"CI_PIPELINE_NUMBER": "3", "TRAIN_C": "0.5"})):
        step(app_repo, "train.sh", {**env, "CI_PIPELINE_EVENT": event, **extra})
        trained = json.loads((app_repo / "dist" / "train.json").read_text())
        # As `mlflow models serve --model-uri` resolves it: the registry's alias, then the version's files.
        info = mlflow_lib.models.get_model_info(uri)
        assert info.run_id == trained["run_id"]
        model = mlflow_lib.pyfunc.load_model(uri)
        assert list(model.predict([[5.1, 3.5, 1.4, 0.2]])) == ["setosa"]
        assert trained["model_uri"] == uri
    versions = MlflowClient(tracking_uri=mlflow.url).search_model_versions("name='iris-classifier'")
    assert sorted(v.version for v in versions) == ["1", "2"]
