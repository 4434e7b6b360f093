"""The CI image of hello-api's python steps (issue 28 item 4): the lab's pipeline files run test, train
and upload in it, and its name follows what it is made of, so a changed pin or requirement never runs
in a stale image."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.model.versions import IMAGES
from gitopslab.render.pipelines import CI_IMAGE_REPO, ci_image, render_template, template_dir


def _steps(dest: Path, pipeline: str) -> dict[str, dict]:
    return {s["name"]: s for s in yaml.safe_load((dest / ".woodpecker" / f"{pipeline}.yaml").read_text())["steps"]}


def test_the_python_steps_that_need_packages_run_in_the_labs_ci_image(tmp_path: Path) -> None:
    cfg = LabConfig(ports={"registry": 15002})
    topo = build(cfg)
    dest = render_template(cfg, topo, tmp_path / "hello-api")
    image = ci_image(cfg, topo)
    assert image.startswith(f"registry.localhost:15002/{CI_IMAGE_REPO}:")
    deliver, retrain = _steps(dest, "deliver"), _steps(dest, "retrain")
    assert {name: deliver[name]["image"] for name in ("test", "train", "upload")} == dict.fromkeys(
        ("test", "train", "upload"), image)
    assert {name: retrain[name]["image"] for name in ("train", "upload")} == dict.fromkeys(("train", "upload"), image)
    # The digest step needs only the standard library; the other steps keep their own images.
    assert deliver["digest"]["image"] == IMAGES["python"] and deliver["scan"]["image"] == IMAGES["trivy"]
    assert deliver["update-gitops"]["image"] == retrain["update-gitops"]["image"] == IMAGES["alpine-git"]


def test_the_shipped_files_name_the_plain_pin_so_the_template_runs_anywhere() -> None:
    deliver = _steps(template_dir(), "deliver")
    assert deliver["test"]["image"] == deliver["train"]["image"] == IMAGES["python"]


def test_its_name_changes_with_a_requirement_and_with_the_python_pin(tmp_path: Path) -> None:
    cfg = LabConfig()
    topo = build(cfg)
    copy = shutil.copytree(template_dir(), tmp_path / "hello-api")
    assert ci_image(cfg, topo, copy) == ci_image(cfg, topo)
    with (copy / "requirements-train.txt").open("a") as fh:
        fh.write("rich==14.0.0\n")
    assert ci_image(cfg, topo, copy) != ci_image(cfg, topo)
    other = LabConfig(images={"python": "mirror.example/library/python:3.12-slim-bookworm"})
    assert ci_image(other, build(other)) != ci_image(cfg, topo)
    # A lab's rendered copy names the image of its own requirement files.
    rendered = render_template(cfg, topo, tmp_path / "rendered")
    assert _steps(rendered, "deliver")["train"]["image"] == ci_image(cfg, topo, rendered) == ci_image(cfg, topo)
