"""`up`'s first delivery pins the initial model in app-dev and app-prd: the real update-gitops.sh
commits to a real bare git repo seeded with this lab's GitOps tree, and both overlays then render a
hello-api whose model environment is valid (app-prd no longer starts with an empty MODEL_OBJECT)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitopslab.context import Context
from gitopslab.lint.loader import find_kubectl
from gitopslab.model.config import load_config
from gitopslab.stack import delivery
from tests.pipelines.conftest import git

PIN = delivery.ModelPin("s3://ml-models/iris-initial.joblib", "ef" * 32)


def _seed_remote(tree: Path, bare: Path) -> None:
    git(tree.parent, "init", "-q", "--bare", "-b", "main", str(bare))
    git(tree, "init", "-q", "-b", "main")
    git(tree, "add", "-A")
    git(tree, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "seed")
    git(tree, "push", "-q", str(bare), "main")


def _model_env(tree: Path, overlay: str) -> dict[str, str]:
    out = subprocess.run([find_kubectl(), "kustomize", str(tree / overlay)], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    objs = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(out) if o}
    [c] = objs[("Deployment", "hello-api")]["spec"]["template"]["spec"]["containers"]
    [ref] = [e["configMapRef"]["name"] for e in c["envFrom"]]
    return dict(objs[("ConfigMap", ref)]["data"])


def test_first_delivery_pins_the_initial_model_in_app_dev_and_app_prd(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = Context.from_config(load_config(None, {}, {"name": "firstpin", "ports": {"gitea": 3300}}))
    delivery.prepare_workspace(ctx)
    ctx.state.put_secret("gitea_token", "token-minted-by-seeding")
    seed = tmp_path / "seed-tree"
    subprocess.run(["cp", "-r", str(delivery.workspace(ctx) / "gitops"), str(seed)], check=True)
    bare = tmp_path / "gitops.git"
    _seed_remote(seed, bare)

    # Stand-ins for what needs the running lab: the ML services' health, training, and the step
    # container (the real step script runs here, on a file:// remote instead of Gitea).
    monkeypatch.setattr(delivery, "wait_for_ml_services", lambda c: None)
    monkeypatch.setattr(delivery, "seed_model", lambda *a, **k: PIN)
    seen_repo: list[str] = []

    def run_step_here(image: str, workspace: Path, script: str, env: Mapping[str, str], **_: Any) -> str:
        seen_repo.append(env["GITOPS_REPO"])
        full = {**os.environ, **env, "GITOPS_REPO": f"file://{bare}"}
        proc = subprocess.run(["sh", f"scripts/ci/{script}"], cwd=workspace, env=full, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    monkeypatch.setattr(delivery, "run_step", run_step_here)
    delivery.deliver_model(ctx)

    assert seen_repo == ["http://gitea.localhost:3300/platform/gitops.git"]
    check = tmp_path / "check"
    git(tmp_path, "clone", "-q", str(bare), str(check))
    assert sorted(git(check, "diff", "--name-only", "HEAD~1", "HEAD").split()) == [
        "clusters/app-dev/model-configmap.yaml", "clusters/app-prd/model-configmap.yaml",
        "clusters/ml-dev/models/model-configmap.yaml", "clusters/ml-prd/models/model-configmap.yaml"]
    for overlay in ("clusters/app-dev", "clusters/app-prd"):
        env = _model_env(check, overlay)
        assert env["MODEL_OBJECT"] == PIN.model_object, overlay
        assert re.fullmatch(r"[0-9a-f]{64}", env["MODEL_SHA"]), overlay
