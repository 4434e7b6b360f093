"""`bundle list` says which images it cannot know yet (issue 23 item 6): Argo CD's and k3s's own
images (and, with their profiles, the device plugin's and the chart's) are read from files `bundle save`
fetches; before that the list names each such set and its file, in text and in JSON, instead of
leaving them out. With the files at hand (after `bundle load`) their images are listed and nothing is
pending."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def bundle_list(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "gitopslab", "bundle", "list", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env=env, stdin=subprocess.DEVNULL)


def test_before_save_the_list_names_what_is_decided_at_save_time(tmp_path: Path) -> None:
    doc = json.loads(bundle_list("--json", "--profile", "observability", cwd=tmp_path).stdout)["data"]
    later = {item["read_from"]: item["images_of"] for item in doc["decided_at_save"]}
    assert later["argocd-install.yaml"] == "Argo CD (install manifest)"
    assert later["k3s-images.txt"] == "k3s system images"
    assert later["kube-prometheus-stack-images.txt"] == "kube-prometheus-stack chart"
    text = bundle_list("--profile", "observability", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    section = text.stdout.split("decided at save time", 1)[1]
    for name, images_of in later.items():
        assert f"{images_of}: the images {name} names" in section


def test_with_the_files_at_hand_their_images_are_listed_and_nothing_is_pending(tmp_path: Path) -> None:
    from gitopslab.state import LabState

    folder = LabState("gitopslab").dir / "bundle"  # where `bundle load` puts the files (state dir: this test's)
    folder.mkdir(parents=True)
    (folder / "argocd-install.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: argocd-server}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: server\n          image: quay.io/argoproj/argocd:v9.9.9\n",
        encoding="utf-8")
    (folder / "k3s-images.txt").write_text("docker.io/rancher/mirrored-pause:3.6\n", encoding="utf-8")
    doc = json.loads(bundle_list("--json", cwd=tmp_path).stdout)["data"]
    assert doc["decided_at_save"] == []
    assert doc["node"]["quay.io/argoproj/argocd:v9.9.9"] == ["Argo CD (install manifest)"]
    assert doc["node"]["docker.io/rancher/mirrored-pause:3.6"] == ["k3s system images"]
    assert "decided at save time" not in bundle_list(cwd=tmp_path).stdout
