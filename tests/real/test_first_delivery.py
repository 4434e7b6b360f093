"""`up`'s first delivery (stack/delivery.py, `delivery.model`) pins the initial model with the pipeline's
update-gitops.sh in a step container that `up` starts itself, not Woodpecker: so the libcurl fix of
WOODPECKER_ENVIRONMENT does not reach it. Here the real step, started by `deliver_model` exactly as `up`
runs it (its image, workspace, environment and the lab network), pushes to the real Gitea by its lab URL.
Only training stands in: MLflow and the S3 store run in the cluster, not in the forge tier.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitopslab.stack import delivery
from gitopslab.stack.gitea import rbac as gitea_rbac
from gitopslab.stack.gitea.seed import seed_gitea, whales_exec
from tests.real.conftest import ForgeLab

pytestmark = pytest.mark.engine
PIN = delivery.ModelPin("s3://ml-models/iris-initial.joblib", "cd" * 32)


def _clone(lab: ForgeLab, dest: Path) -> Path:
    """platform/gitops from the host (127.0.0.1 with the lab's Host header), as the admin."""
    gitea = lab.ctx.topo.service("gitea")
    token = lab.ctx.state.secret("gitea_token")
    subprocess.run(["git", "-c", f"http.extraHeader=Authorization: token {token}", "-c",
                    f"http.extraHeader=Host: {gitea.address}", "clone", "-q",
                    f"http://127.0.0.1:{gitea.port}/{gitea_rbac.ORG}/gitops.git", str(dest)],
                   check=True, capture_output=True, timeout=60)
    return dest


def test_ups_first_delivery_pins_the_model_through_gitea_by_its_lab_url(
        forge_lab: ForgeLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from python_on_whales import DockerClient

    ctx = forge_lab.ctx
    seed_gitea(ctx, whales_exec(DockerClient(), f"{forge_lab.name}-gitea"))
    delivery.prepare_workspace(ctx)  # the `seed.workspace` step: the hello-api template for this lab
    monkeypatch.setattr(delivery, "wait_for_ml_services", lambda c: None)
    monkeypatch.setattr(delivery, "seed_model", lambda *a, **k: PIN)
    before = subprocess.run(["git", "-C", str(_clone(forge_lab, tmp_path / "before")), "rev-parse", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()

    delivery.deliver_model(ctx)  # raises EngineError with the step's output when git cannot reach Gitea

    after = _clone(forge_lab, tmp_path / "after")
    log = subprocess.run(["git", "-C", str(after), "log", "--format=%H", f"{before}..HEAD"], capture_output=True,
                         text=True, check=True).stdout.split()
    assert len(log) == 1, log  # one pin commit on top of the seeded tree
    changed = subprocess.run(["git", "-C", str(after), "diff", "--name-only", before, "HEAD"], capture_output=True,
                             text=True, check=True).stdout.split()
    assert sorted(changed) == sorted(f"{overlay}/model-configmap.yaml"
                                     for overlay in delivery.INITIAL_OVERLAYS + delivery.INITIAL_MODEL_OVERLAYS)
    for overlay in delivery.INITIAL_OVERLAYS:
        text = (after / overlay / "model-configmap.yaml").read_text()
        assert f'MODEL_OBJECT: "{PIN.model_object}"' in text and f'MODEL_SHA: "{PIN.model_sha}"' in text
