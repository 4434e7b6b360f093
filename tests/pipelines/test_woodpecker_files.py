"""The hello-api template's pipeline, Dockerfile and scripts, checked with the real tools and the
upstream Woodpecker schema."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from gitopslab.model.versions import IMAGES
from tests.pipelines.conftest import TEMPLATE
from tests.support import services

PIPELINES = sorted((TEMPLATE / ".woodpecker").glob("*.yaml"))
SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "ACCESS_KEY")


def load(name: str) -> dict:
    return yaml.safe_load((TEMPLATE / ".woodpecker" / name).read_text())


@pytest.mark.contracts
@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: p.name)
def test_pipeline_is_valid_against_the_woodpecker_schema(path: Path, contracts_dir: Path) -> None:
    schema = json.loads((contracts_dir / "woodpecker-pipeline.schema.json").read_text())
    jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_deliver_runs_the_flow_in_order_with_pinned_images() -> None:
    pipeline = load("deliver.yaml")
    steps = {s["name"]: s for s in pipeline["steps"]}
    assert list(steps) == ["test", "train", "upload", "build", "digest", "scan", "update-gitops"]
    assert {w["event"] if isinstance(w["event"], str) else tuple(w["event"]) for w in pipeline["when"]} == {("push", "manual")}
    for name in ("test", "train", "upload", "digest"):
        assert steps[name]["image"] == IMAGES["python"]
    assert steps["build"]["image"] == IMAGES["kaniko"]
    assert steps["scan"]["image"] == IMAGES["trivy"]
    assert steps["update-gitops"]["image"] == IMAGES["alpine-git"]
    build = steps["build"]["settings"]
    assert build["insecure"] is True
    # plugin-kaniko 2.3.1 (plugin.sh) pushes `--destination=${REGISTRY}/${PLUGIN_REPO}:${tag}`: that must be
    # the image the digest step reads (`$REGISTRY` + hello-api), not registry/registry/hello-api.
    destination = f"{build['registry']}/{build['repo']}:TAG"
    assert destination == f"{steps['digest']['environment']['REGISTRY']}/hello-api:TAG"
    assert "tags" not in build, "tags come from the .tags file the upload step writes"


def test_retrain_is_cron_triggered_and_keeps_the_image() -> None:
    pipeline = load("retrain.yaml")
    assert pipeline["when"] == [{"event": "cron", "cron": "retrain"}]
    names = [s["name"] for s in pipeline["steps"]]
    assert names == ["train", "upload", "update-gitops"]
    env = pipeline["steps"][-1]["environment"]
    assert "IMAGE_TAG" not in env and "IMAGE_TAG_FILE" not in env


@pytest.mark.parametrize("path", PIPELINES, ids=lambda p: p.name)
def test_secrets_only_through_from_secret_and_steps_only_call_scripts(path: Path) -> None:
    pipeline = yaml.safe_load(path.read_text())
    assert "secrets" not in json.dumps(pipeline).replace("from_secret", "")
    for step in pipeline["steps"]:
        for key, value in (step.get("environment") or {}).items():
            if any(word in key for word in SECRET_WORDS):
                assert isinstance(value, dict) and set(value) == {"from_secret"}, f"{step['name']}.{key}"
        for command in step.get("commands", []):
            assert command.startswith("sh scripts/ci/"), command
            assert (TEMPLATE / command.split()[1]).is_file(), command


def test_dockerfile_is_hadolint_clean() -> None:
    result = subprocess.run([services.tool("hadolint"), "--failure-threshold", "warning", "Dockerfile"],
                            cwd=TEMPLATE, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_trivy_config_finds_nothing_high(tmp_path: Path) -> None:
    report = tmp_path / "trivy.json"
    result = subprocess.run(
        [services.tool("trivy"), "config", "--skip-check-update", "--severity", "HIGH,CRITICAL", "--exit-code", "1",
         "--format", "json", "--output", str(report), str(TEMPLATE)],
        capture_output=True, text=True, timeout=300, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:] + report.read_text()[-2000:]
    scanned = {r["Target"] for r in json.loads(report.read_text()).get("Results", [])}
    assert "Dockerfile" in scanned


def test_step_scripts_are_shellcheck_clean() -> None:
    scripts = sorted(str(p.relative_to(TEMPLATE)) for p in (TEMPLATE / "scripts" / "ci").glob("*.sh"))
    result = subprocess.run([services.tool("shellcheck"), "-x", *scripts], cwd=TEMPLATE, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
