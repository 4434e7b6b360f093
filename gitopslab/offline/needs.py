"""Everything a lab pulls, derived from the pins and the shipped content (never retyped), so an
offline bundle holds exactly what `up` would otherwise fetch.

    engine  images the container engine runs: the compose services, the k3s node, the pipeline steps
            and Woodpecker's clone plugin, the base of hello-api's image
    node    images the k3d node's containerd runs: the GitOps tree's workloads and Argo CD's own
            (imported into the node from the engine, so they are in the engine too)
    files   files read from a URL: Argo CD's install manifest (`up` applies it) and the k3s release's
            list of its system images (pause, CoreDNS, ...: the node needs them before any pod runs);
            the wheelhouse: the pipelines' Python packages (offline/wheelhouse.py); with the
            observability profile, its chart's package and the images the rendered chart runs
            (offline/chart.py); with the kserve profile, KServe's and cert-manager's images (model/kserve.py)
            and the packages of its four charts (cert-manager's, KServe's CRD, resources and runtimes charts)

The images of Argo CD and of k3s itself (and the device plugin's, the chart's) are read from those
files, so they are known once the files are at hand (bundle save fetches them; bundle load puts them
in the state dir). Until then `later` names each such set and the file it will be read from, so a
list made before save says what it cannot know yet instead of leaving it out.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitopslab.context import Context
from gitopslab.offline import chart
from gitopslab.offline.images import container_images
from gitopslab.offline.wheelhouse import WHEELHOUSE
from gitopslab.resources import content_path

ARGOCD_MANIFEST = "argocd-install.yaml"
K3S_IMAGES = "k3s-images.txt"
DEVICE_PLUGIN = "nvidia-device-plugin.yml"  # the GPU profile's: `up` applies it
# An image with no registry host is the lab's own build (the GitOps tree's `hello-api`, set per
# overlay to the lab registry); nothing to pull.
_BARE = re.compile(r"^[a-z0-9._-]+(:[\w.-]+)?$")


@dataclass
class Needs:
    """image -> who uses it, per place it must be; files by name."""

    engine: dict[str, list[str]] = field(default_factory=dict)
    node: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    later: list[dict[str, str]] = field(default_factory=list)  # {"images_of", "read_from"}: decided at save

    def add(self, where: dict[str, list[str]], image: str, user: str) -> None:
        users = where.setdefault(image, [])
        if user not in users:
            users.append(user)

    @property
    def images(self) -> list[str]:
        """Every image the engine must hold (node images are imported from the engine)."""
        return sorted(set(self.engine) | set(self.node))

    def as_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "node": self.node, "files": self.files, "decided_at_save": self.later}


def lab_needs(ctx: Context, files: Path | None = None, only_compose: bool = False) -> Needs:
    """What this lab pulls; `files` is a folder that may hold the files above (their images count)."""
    needs = Needs()
    _compose(ctx, needs)
    if only_compose:
        return needs
    needs.add(needs.engine, ctx.cfg.image("clone"), "Woodpecker's clone step")
    _pipelines(ctx, needs)
    node_user = "k3d node (k3s with CUDA, built locally: `gitopslab up --gpu on` first)" if ctx.cfg.gpu != "off" \
        else "k3d node (k3s)"
    needs.add(needs.engine, _node_image(ctx), node_user)
    if ctx.cfg.multicluster:  # the production cluster's node: always the stock k3s image (no GPU there)
        needs.add(needs.engine, ctx.cfg.image("k3s"), "k3d node of the production cluster (k3s, multicluster)")
    for image, user in k3d_helper_images().items():
        needs.add(needs.engine, image, user)
    for image, where in workload_images(content_path("gitops"), ctx.topo.registry):
        needs.add(needs.node, image, where)
    readers: list[tuple[str, Callable[[str], list[str]], str]] = [
        (ARGOCD_MANIFEST, container_images, "Argo CD (install manifest)"),
        (K3S_IMAGES, lambda text: text.split(), "k3s system images"),
    ]
    if ctx.cfg.gpu != "off":  # auto may turn on at preflight: carry what `on` needs
        readers.append((DEVICE_PLUGIN, container_images, "NVIDIA device plugin"))
    if ctx.cfg.observability:  # the chart's package, then the images its rendering runs
        needs.files.append(chart.chart_file())
        readers.append((chart.IMAGES_FILE, lambda text: text.split(), "kube-prometheus-stack chart"))
    if ctx.cfg.kserve:  # the charts' images: KServe's pinned roles and cert-manager's at the chart's version
        from gitopslab.model.kserve import images as kserve_images

        for image, user in kserve_images(ctx.cfg).items():
            needs.add(needs.node, image, user)
        needs.files.extend(chart.kserve_packages(ctx.cfg))  # its charts' packages, for the lab's Gitea
    for name, read, user in readers:
        needs.files.append(name)
        path = files / name if files is not None else None
        if path is not None and path.is_file():
            for image in read(path.read_text(encoding="utf-8")):
                needs.add(needs.node, image, user)
        else:
            needs.later.append({"images_of": user, "read_from": name})
    needs.files.append(WHEELHOUSE)
    return needs


def _compose(ctx: Context, needs: Needs) -> None:
    from gitopslab.model.components import COMPONENTS

    for service, (_, role, others) in COMPONENTS.items():
        for r in (role, *others):
            needs.add(needs.engine, ctx.cfg.image(r), f"compose service {service}")


def _pipelines(ctx: Context, needs: Needs) -> None:
    """The step images of hello-api's pipelines as this lab renders them (images: overrides applied),
    except the lab's own builds: the CI image (render/pipelines.ci_image) is built by `up` from the
    `python` pin and the wheelhouse, both in the bundle."""
    from gitopslab.render.pipelines import render_template

    with tempfile.TemporaryDirectory(prefix="gitopslab-needs-") as tmp:
        rendered = render_template(ctx.cfg, ctx.topo, Path(tmp) / "hello-api")
        for path in sorted((rendered / ".woodpecker").glob("*.yaml")):
            for image in container_images(path.read_text(encoding="utf-8")):
                if not image.startswith(f"{ctx.topo.registry}/"):
                    needs.add(needs.engine, image, f"pipeline {path.stem}")
    needs.add(needs.engine, ctx.cfg.image("python"), "hello-api's image (its base)")


def k3d_helper_images() -> dict[str, str]:
    """k3d's own images at the pinned k3d's version (k3d v5.9.0 pkg/types/images.go: the helper tag is
    the CLI version without its v): the load balancer every lab runs, the tools node it starts."""
    from gitopslab.model.versions import TOOLS

    tag = TOOLS["k3d"].version.lstrip("v")
    return {f"ghcr.io/k3d-io/k3d-proxy:{tag}": "k3d's load balancer (the lab's published ports)",
            f"ghcr.io/k3d-io/k3d-tools:{tag}": "k3d's tools node"}


def _node_image(ctx: Context) -> str:
    if ctx.cfg.gpu != "off":
        from gitopslab.model.versions import k3s_cuda_tag

        return k3s_cuda_tag(ctx.cfg.image("k3s"), ctx.cfg.image("k3s-cuda-base"))
    return ctx.cfg.image("k3s")


def workload_images(tree: Path, lab_registry: str) -> Iterator[tuple[str, str]]:
    """(image, file) for every container image in a GitOps tree, except the lab's own builds."""
    for path in sorted(tree.rglob("*.y*ml")):
        for image in container_images(path.read_text(encoding="utf-8")):
            if _BARE.match(image) or image.startswith(f"{lab_registry}/"):
                continue
            yield image, str(path.relative_to(tree))
