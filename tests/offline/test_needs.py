"""The bundle's image list is complete: every image the compose file (read by the real Compose), the
shipped GitOps tree and the rendered pipelines name is in it, found here by a different reading
(plain text) than the one that builds the list (YAML). Overrides and profiles change it as `up` would."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from gitopslab.context import Context
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.model.versions import IMAGES, TOOLS
from gitopslab.offline.images import container_images
from gitopslab.offline.needs import ARGOCD_MANIFEST, K3S_IMAGES, lab_needs
from gitopslab.offline.wheelhouse import WHEELHOUSE
from gitopslab.render import compose_env
from gitopslab.render.pipelines import ci_image, render_template
from gitopslab.resources import content_path
from gitopslab.stack import compose_layer
from gitopslab.state import LabState
from tests.conftest import need

IMAGE_LINE = re.compile(r"^\s*-?\s*image:\s*[\"']?([^\s\"'#]+)", re.MULTILINE)


def _ctx(**settings: object) -> Context:
    cfg = load_config(None, environ={}, flags=dict(settings))
    return Context(cfg=cfg, topo=build(cfg), state=LabState(cfg.name))


def test_every_image_of_the_compose_file_is_in_the_bundle(engine: str, tmp_path: Path) -> None:
    need(subprocess.run([engine, "compose", "version"], capture_output=True, timeout=60).returncode == 0,
         "`docker compose` (v2): scripts/test.sh links it as the CLI plugin")
    ctx = _ctx()
    env = tmp_path / "lab.env"
    env.write_text(compose_env.render(ctx.cfg, ctx.topo, None, str(tmp_path / "nginx.conf")))
    names = compose_env.values(ctx.cfg, ctx.topo)
    proc = subprocess.run([engine, "compose", "-f", str(compose_layer.compose_file()), "--env-file", str(env),
                           "-p", "needs", "--profile", "ci", "--profile", "cluster", "config", "--images"],
                          capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k not in names})
    assert proc.returncode == 0, proc.stderr
    from_compose = set(proc.stdout.split())
    assert from_compose >= {IMAGES["gitea"], IMAGES["registry"], IMAGES["edge"]}
    assert from_compose <= set(lab_needs(ctx).engine)
    assert names["CLONE_IMAGE"] == IMAGES["clone"]  # the server is told to clone with the bundled plugin


def test_every_image_of_the_gitops_tree_is_in_the_bundle() -> None:
    ctx = _ctx()
    needs = lab_needs(ctx)
    tree = content_path("gitops")
    named = {m for path in tree.rglob("*.y*ml") for m in IMAGE_LINE.findall(path.read_text())}
    assert len(named) >= 4
    lab_built = {"hello-api"}  # the lab builds it and pushes it to its own registry
    assert named - lab_built <= set(needs.node)
    assert set(needs.node) <= set(needs.images)


def test_every_step_image_of_the_rendered_pipelines_is_in_the_bundle(tmp_path: Path) -> None:
    ctx = _ctx(images={"trivy": "mirror.example/aquasec/trivy:0.74.0"})
    rendered = render_template(ctx.cfg, ctx.topo, tmp_path / "hello-api")
    named = {m for path in (rendered / ".woodpecker").glob("*.yaml") for m in IMAGE_LINE.findall(path.read_text())}
    engine = set(lab_needs(ctx).engine)
    assert "mirror.example/aquasec/trivy:0.74.0" in named
    # The CI image of the python steps is the lab's own build (`up`: the python pin + the wheelhouse).
    own = {m for m in named if m.startswith(f"{ctx.topo.registry}/")}
    assert own == {ci_image(ctx.cfg, ctx.topo)} and not own & engine
    assert named - own <= engine
    assert IMAGES["trivy"] not in engine  # the override replaced the pin everywhere
    assert {IMAGES["clone"], IMAGES["k3s"], IMAGES["python"]} <= engine


def test_k3d_helper_images_follow_the_pinned_k3d() -> None:
    engine = lab_needs(_ctx()).engine
    tag = TOOLS["k3d"].version
    assert {f"ghcr.io/k3d-io/k3d-proxy:{tag}", f"ghcr.io/k3d-io/k3d-tools:{tag}"} <= set(engine)


def test_compose_only_is_the_compose_services() -> None:
    needs = lab_needs(_ctx(), only_compose=True)
    roles = {role for _, role, others in compose_layer.COMPONENTS.values() for role in (role, *others)}
    assert set(needs.images) == {IMAGES[r] for r in roles}
    assert needs.files == [] and needs.node == {}


def test_the_files_images_count_once_the_files_are_here(tmp_path: Path) -> None:
    (tmp_path / K3S_IMAGES).write_text("docker.io/rancher/mirrored-pause:3.6\ndocker.io/rancher/mirrored-coredns-coredns:1.12.3\n")
    (tmp_path / ARGOCD_MANIFEST).write_text(
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - name: argocd-server\n          image: quay.io/argoproj/argocd:v3.6.1\n")
    without = lab_needs(_ctx())
    with_files = lab_needs(_ctx(), tmp_path)
    assert without.files == with_files.files == [ARGOCD_MANIFEST, K3S_IMAGES, WHEELHOUSE]
    added = set(with_files.node) - set(without.node)
    assert added == {"docker.io/rancher/mirrored-pause:3.6", "docker.io/rancher/mirrored-coredns-coredns:1.12.3",
                     "quay.io/argoproj/argocd:v3.6.1"}


@pytest.mark.parametrize("text, expected", [
    ("containers:\n  - name: a\n    image: x:1\ninitContainers:\n  - name: b\n    image: y:2\n", ["x:1", "y:2"]),
    ("image:\n  repository: chart/values\n  tag: '1'\n", []),  # a chart's values, not a container
    ("---\nsteps:\n  - name: t\n    image: p:3\n---\n", ["p:3"]),
])
def test_container_images_reads_containers_and_steps(text: str, expected: list[str]) -> None:
    assert container_images(text) == expected
