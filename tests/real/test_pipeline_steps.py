"""The delivery pipeline's step scripts, run in their pinned step images on the lab network against the
real Gitea and registry, with the variables the Woodpecker server hands every step
(WOODPECKER_ENVIRONMENT) and the secrets `up` creates. Woodpecker itself cannot be built here
(docs/REAL_STACK.md), so the test starts each step container as its docker backend does: the
workspace mounted, the step's environment, the lab network.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from gitopslab.render.compose_env import values as compose_values
from gitopslab.render.pipelines import render_template
from gitopslab.stack.gitea import rbac as gitea_rbac
from gitopslab.stack.gitea.seed import seed_gitea, whales_exec
from tests.real.conftest import ForgeLab

pytestmark = pytest.mark.engine


def _step(workspace: Path, pipeline: str, name: str) -> dict:
    """The step as the lab seeds it (the template localized to this lab's ports and images)."""
    steps = yaml.safe_load((workspace / ".woodpecker" / f"{pipeline}.yaml").read_text())["steps"]
    return next(s for s in steps if s["name"] == name)


@pytest.fixture(scope="module")
def seeded(forge_lab: ForgeLab) -> ForgeLab:
    from python_on_whales import DockerClient

    seed_gitea(forge_lab.ctx, whales_exec(DockerClient(), f"{forge_lab.name}-gitea"))
    return forge_lab


def _run_step(lab: ForgeLab, workspace: Path, pipeline: str, name: str, extra: dict[str, str]) -> str:
    """One step as Woodpecker's docker backend starts it; returns its output, fails the test on error."""
    step = _step(workspace, pipeline, name)
    env = dict(item.split(":", 1) for item in compose_values(lab.ctx.cfg, lab.ctx.topo)["WOODPECKER_ENVIRONMENT"]
               .split(","))
    secrets = {"gitea_token": lab.ctx.state.secret("gitea_pipeline_token")}
    for key, value in (step.get("environment") or {}).items():
        env[key] = secrets[value["from_secret"]] if isinstance(value, dict) else str(value)
    env.update(extra)
    flags = [f for key, value in env.items() for f in ("-e", f"{key}={value}")]
    script = " && ".join(step["commands"])
    done = subprocess.run(["docker", "run", "--rm", "--network", lab.ctx.topo.network, "-v",
                           f"{workspace}:/woodpecker/src", "-w", "/woodpecker/src", *flags, "--entrypoint", "sh",
                           step["image"], "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"step {name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _gitops_head(lab: ForgeLab, dest: Path) -> Path:
    """A fresh clone of platform/gitops from the host (127.0.0.1 with the lab's Host header)."""
    gitea = lab.ctx.topo.service("gitea")
    token = lab.ctx.state.secret("gitea_token")
    shutil.rmtree(dest, ignore_errors=True)
    subprocess.run(["git", "-c", f"http.extraHeader=Authorization: token {token}", "-c",
                    f"http.extraHeader=Host: {gitea.address}", "clone", "-q",
                    f"http://127.0.0.1:{gitea.port}/{gitea_rbac.ORG}/gitops.git", str(dest)], check=True,
                   capture_output=True, timeout=60)
    return dest


def _last_commit_diff(clone: Path) -> tuple[str, list[str]]:
    subject = subprocess.run(["git", "-C", str(clone), "log", "-1", "--format=%s"], capture_output=True,
                             text=True, check=True).stdout.strip()
    diff = subprocess.run(["git", "-C", str(clone), "show", "--format=", "-U0", "HEAD"], capture_output=True,
                          text=True, check=True).stdout
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return subject, changed


def _last_commit_files(clone: Path) -> list[str]:
    return sorted(subprocess.run(["git", "-C", str(clone), "show", "--format=", "--name-only", "HEAD"],
                                 capture_output=True, text=True, check=True).stdout.split())


@pytest.fixture
def workspace(seeded: ForgeLab, tmp_path: Path) -> Path:
    dest = render_template(seeded.ctx.cfg, seeded.ctx.topo, tmp_path / "src")
    (dest / "dist").mkdir()
    (dest / "dist" / "release.env").write_text("MODEL_OBJECT=s3://models/hello-api/iris-abc1234.joblib\n"
                                               f"MODEL_SHA={'a' * 64}\n")
    (dest / ".tags").write_text("abc1234\n")
    dest.chmod(0o777)
    return dest


@pytest.fixture(scope="module")
def pushed(seeded: ForgeLab, base_image: str) -> str:
    """hello-api:abc1234 in the lab's real registry (the build step's output; kaniko cannot be built here)."""
    registry = seeded.ctx.topo.service("registry")
    ref = f"127.0.0.1:{registry.port}/hello-api:abc1234"
    subprocess.run(["docker", "tag", base_image, ref], check=True)
    try:
        subprocess.run(["docker", "push", ref], check=True, capture_output=True, timeout=300)
    finally:
        subprocess.run(["docker", "rmi", ref], capture_output=True)
    return ref


def _digest(seeded: ForgeLab, workspace: Path) -> str:
    """The real digest step: asks the registry, by the lab's name, what hello-api:abc1234 is."""
    out = _run_step(seeded, workspace, "deliver", "digest", {})
    digest = (workspace / ".digest").read_text().strip()
    assert digest.startswith("sha256:") and len(digest) == 71 and digest in out
    return digest


def test_update_gitops_pins_image_and_model_through_the_real_branch_protection(
        seeded: ForgeLab, pushed: str, workspace: Path, tmp_path: Path) -> None:
    digest = _digest(seeded, workspace)
    out = _run_step(seeded, workspace, "deliver", "update-gitops", {"CI_COMMIT_SHA": "abc1234" + "0" * 33})
    assert "pushed" in out
    subject, changed = _last_commit_diff(_gitops_head(seeded, tmp_path / "gitops"))
    assert subject == f"deploy hello-api:abc1234@{digest}, model iris-abc1234.joblib [skip ci]"
    model = ['+  MODEL_OBJECT: "s3://models/hello-api/iris-abc1234.joblib"', f'+  MODEL_SHA: "{"a" * 64}"']
    # hello-api's image and model in app-dev, the same model for the kserve profile's InferenceService in
    # ml-dev: exactly the files the CI bot may push to main (rbac.DEV_PINS), which the real Gitea enforces.
    assert sorted(line for line in changed if line.startswith("+")) == sorted([
        '+    newTag: "abc1234"', f'+    digest: "{digest}"', *model, *model]), changed
    assert len([line for line in changed if line.startswith("-")]) == 5
    assert _last_commit_files(tmp_path / "gitops") == sorted(gitea_rbac.DEV_PINS)


def test_retrain_pipeline_changes_only_the_model_pin(seeded: ForgeLab, workspace: Path, tmp_path: Path) -> None:
    (workspace / "dist" / "release.env").write_text("MODEL_OBJECT=s3://models/hello-api/iris-abc1234-r7.joblib\n"
                                                    f"MODEL_SHA={'b' * 64}\n")
    _run_step(seeded, workspace, "retrain", "update-gitops", {"CI_PIPELINE_EVENT": "cron"})
    subject, changed = _last_commit_diff(_gitops_head(seeded, tmp_path / "gitops"))
    assert subject == "deploy model iris-abc1234-r7.joblib [skip ci]"
    added = sorted(line for line in changed if line.startswith("+"))
    model = ['+  MODEL_OBJECT: "s3://models/hello-api/iris-abc1234-r7.joblib"', f'+  MODEL_SHA: "{"b" * 64}"']
    assert added == sorted(model * 2)  # app-dev's hello-api and ml-dev's InferenceService, no image
    assert _last_commit_files(tmp_path / "gitops") == sorted(
        pin for pin in gitea_rbac.DEV_PINS if pin.endswith("model-configmap.yaml"))


def test_scan_runs_the_real_trivy_on_the_digest_it_pins(seeded: ForgeLab, pushed: str, workspace: Path) -> None:
    """The vulnerability DB cannot be fetched here: SCAN_OFFLINE=1 turns the vulnerability scanner off
    (the step says so); secrets and misconfigurations are still scanned, in the image pulled by its lab
    name and its digest, the one update-gitops pins."""
    registry = seeded.ctx.topo.service("registry")
    digest = _digest(seeded, workspace)
    out = _run_step(seeded, workspace, "deliver", "scan",
                    {"SCAN_OFFLINE": "1", "CI_COMMIT_SHA": "abc1234" + "0" * 33, "TRIVY_CACHE_DIR": "/tmp/trivy"})
    assert "vulnerability scan OFF" in out
    # trivy names its target in the report; a narrow table may fold the long reference, so look at the log line
    assert f"{registry.address}/hello-api@{digest}" in out or digest.split(":")[1][:12] in out, out[-3000:]
