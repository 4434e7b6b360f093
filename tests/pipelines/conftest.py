"""Fixtures for the delivery-flow tests: a copy of the hello-api template as a git repo, a bare GitOps
repo shaped as contract-hello.md says, and the real stand-in services from services.py."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import services

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "pipelines" / "hello-api"

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: app-dev
resources:
  - ../../base/app/hello-api
patches:
  - path: model-configmap.yaml
images:
  - name: hello-api
    newName: registry.localhost:5002/hello-api
    newTag: "initial"
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: hello-api-model
data:
  MODEL_OBJECT: "s3://ml-models/iris-initial.joblib"
  MODEL_SHA: "0000000000000000000000000000000000000000000000000000000000000000"
  S3_ENDPOINT_URL: "http://minio.ml-dev.svc:9000"
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _commit_all(cwd: Path, message: str) -> None:
    git(cwd, "add", "-A")
    git(cwd, "-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-q", "-m", message)


@pytest.fixture
def gitops_remote(tmp_path: Path) -> Path:
    """A bare repo (the GitOps repo) with main holding the app-dev overlay files the step edits."""
    bare = tmp_path / "gitops.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    work = tmp_path / "gitops-seed"
    (work / "clusters" / "app-dev").mkdir(parents=True)
    (work / "clusters" / "app-dev" / "kustomization.yaml").write_text(KUSTOMIZATION)
    (work / "clusters" / "app-dev" / "model-configmap.yaml").write_text(CONFIGMAP)
    (work / "README.md").write_text("gitops\n")
    git(work, "init", "-q", "-b", "main")
    _commit_all(work, "seed")
    git(work, "push", "-q", str(bare), "main")
    return bare


@pytest.fixture
def app_repo(tmp_path: Path) -> Path:
    """The hello-api template as the app repo a participant commits to."""
    dest = tmp_path / "hello-api"
    shutil.copytree(TEMPLATE, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "dist", ".ci"))
    git(dest, "init", "-q", "-b", "main")
    _commit_all(dest, "hello-api")
    return dest


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[services.Proc]:
    with services.moto_server(tmp_path) as proc:
        yield proc


@pytest.fixture
def mlflow(tmp_path: Path, s3: services.Proc) -> Iterator[services.Proc]:
    with services.mlflow_server(tmp_path, s3.url) as proc:
        yield proc
