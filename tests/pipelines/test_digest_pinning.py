"""Scan and pin by digest: the digest step asks the (real) registry once for what build pushed, trivy
scans image@digest and update-gitops pins that digest, so the image Argo CD runs is the one scanned."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import yaml

from tests.pipelines.conftest import REPO, TEMPLATE
from tests.support import services

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def push_image(registry: str, tag: str) -> str:
    """A one-config, no-layer image pushed the way any client does; returns its manifest digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                         "config": {}}).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    base = f"http://{registry}/v2/hello-api"
    start = httpx.post(f"{base}/blobs/uploads/", timeout=10)
    assert start.status_code == 202, start.text
    location = httpx.URL(base).join(start.headers["location"]).copy_add_param("digest", config_digest)
    httpx.put(location, content=config, timeout=10).raise_for_status()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [],
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": config_digest, "size": len(config)}}).encode()
    httpx.put(f"{base}/manifests/{tag}", content=manifest, headers={"content-type": OCI_MANIFEST},
              timeout=10).raise_for_status()
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


def run(app: Path, script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["sh", f"scripts/ci/{script}", *args], cwd=app, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{script}: {done.stdout}\n{done.stderr}"
    return done


def fake_trivy(bin_dir: Path, seen: Path) -> None:
    """trivy on PATH that records the image reference it was asked to scan."""
    bin_dir.mkdir()
    (bin_dir / "trivy").write_text(f'#!/bin/sh\nfor last; do :; done\nprintf "%s" "$last" > {seen}\n')
    (bin_dir / "trivy").chmod(0o755)


def test_scan_and_update_gitops_use_the_digest_the_registry_holds(app_repo: Path, tmp_path: Path) -> None:
    with services.registry(tmp_path) as reg:
        registry = reg.url.removeprefix("http://")
        pushed = push_image(registry, "abc1234")
        (app_repo / ".tags").write_text("abc1234\n")
        env = {"REGISTRY": registry, "IMAGE_TAG_FILE": ".tags", "IMAGE_DIGEST_FILE": ".digest"}
        run(app_repo, "digest.sh", env)
        assert (app_repo / ".digest").read_text().strip() == pushed

        seen = tmp_path / "scanned"
        fake_trivy(tmp_path / "bin", seen)
        run(app_repo, "scan.sh", {**env, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"})
        assert seen.read_text() == f"{registry}/hello-api@{pushed}"

    tree = tmp_path / "gitops"
    shutil.copytree(REPO / "gitops", tree)
    run(app_repo, "update-gitops.sh", {**env, "MODEL_OBJECT": "s3://ml-models/iris-abc1234.joblib",
                                       "MODEL_SHA": "1" * 64}, "--edit-only", str(tree))
    images = yaml.safe_load((tree / "clusters/app-dev/kustomization.yaml").read_text())["images"]
    entry = next(i for i in images if i["name"] == "hello-api")
    assert entry["newTag"] == "abc1234" and entry["digest"] == pushed


def test_a_new_tag_without_digest_drops_the_old_digest(app_repo: Path, tmp_path: Path) -> None:
    tree = tmp_path / "gitops"
    shutil.copytree(REPO / "gitops", tree)
    model = {"MODEL_OBJECT": "s3://ml-models/iris-x.joblib", "MODEL_SHA": "1" * 64}
    run(app_repo, "update-gitops.sh", {**model, "IMAGE_TAG": "abc1234", "IMAGE_DIGEST": "sha256:" + "a" * 64},
        "--edit-only", str(tree))
    run(app_repo, "update-gitops.sh", {**model, "IMAGE_TAG": "initial"}, "--edit-only", str(tree))
    entry = yaml.safe_load((tree / "clusters/app-dev/kustomization.yaml").read_text())["images"][0]
    assert entry["newTag"] == "initial" and "digest" not in entry


def test_scan_refuses_without_a_recorded_digest(app_repo: Path) -> None:
    done = subprocess.run(["sh", "scripts/ci/scan.sh"], cwd=app_repo, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "IMAGE_DIGEST_FILE": ".digest"})
    assert done.returncode != 0 and "run the digest step" in done.stderr


def test_deliver_records_the_digest_between_build_and_scan() -> None:
    steps = {s["name"]: s for s in yaml.safe_load((TEMPLATE / ".woodpecker/deliver.yaml").read_text())["steps"]}
    names = list(steps)
    assert names.index("build") < names.index("digest") < names.index("scan") < names.index("update-gitops")
    assert steps["scan"]["environment"]["IMAGE_DIGEST_FILE"] == ".digest"
    assert steps["update-gitops"]["environment"]["IMAGE_DIGEST_FILE"] == ".digest"
