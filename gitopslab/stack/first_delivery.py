"""`up`'s first delivery, so the lab is whole right after `up` without waiting for a pipeline:

    seed.workspace   the content Gitea receives: the shipped gitops/ tree and the hello-api template
                     rendered for this lab's names and images (state dir `seed/`)
    delivery.image   registry.localhost:5002/hello-api:initial, built and pushed
    delivery.model   (once MLflow and MinIO answer in the cluster) train + upload the initial model
                     through the pipeline's own scripts, then pin its sha256 in platform/gitops, in
                     app-dev and app-prd (app-prd's shipped pin is empty: not-ready until then)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from gitopslab import wait
from gitopslab.clients import loopback
from gitopslab.context import Context
from gitopslab.render import gitops_tree
from gitopslab.render.pipelines import render_template
from gitopslab.resources import content_path
from gitopslab.stack import compose_layer, delivery
from gitopslab.stack.step import FuncStep, Step


def workspace(ctx: Context) -> Path:
    return ctx.state.dir / "seed"


def _workspace_ready(ctx: Context) -> bool:
    root = workspace(ctx)
    return (root / "gitops" / "projects").is_dir() and (root / "pipelines" / "hello-api" / "Dockerfile").is_file()


def prepare_workspace(ctx: Context) -> None:
    root = workspace(ctx)
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(content_path("gitops"), root / "gitops")
    localize_tree(ctx, root / "gitops")
    render_template(ctx.cfg, ctx.topo, root / "pipelines" / "hello-api")


def localize_tree(ctx: Context, tree: Path) -> None:
    """The shipped tree names the default lab's URLs; give it this lab's (render/gitops_tree.py), so
    repoURLs, sourceRepos, image names and MLflow's allowed hosts and origins match what is reached."""
    swaps = gitops_tree.localizations(ctx.topo)
    if not swaps:
        return
    for path in tree.rglob("*.y*ml"):
        text = path.read_text(encoding="utf-8")
        changed = gitops_tree.localize(text, swaps)
        if changed != text:
            path.write_text(changed, encoding="utf-8")


def _registry_has(ctx: Context, ref: str) -> bool:
    registry = ctx.topo.service("registry")
    repo, _, tag = ref.split("/", 1)[1].partition(":")
    accept = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json"
    try:
        resp = loopback.request(registry, f"/v2/{repo}/manifests/{tag}", method="HEAD", timeout=5.0,
                                headers={"Accept": accept})
    except httpx.HTTPError:
        return False
    return resp.status_code == 200


def wait_for_ml_services(ctx: Context) -> None:
    """MLflow and the S3 store come up through Argo CD; train only once both answer."""
    def probe() -> tuple[bool, str]:
        seen = []
        for key in ("mlflow", "minio_api"):
            svc = ctx.topo.service(key)
            try:
                code = loopback.request(svc, timeout=5.0).status_code
            except httpx.HTTPError as exc:
                return False, f"{svc.title}: {type(exc).__name__}"
            seen.append(f"{svc.title}: HTTP {code}")
            if code != 200:
                return False, "; ".join(seen)
        return True, "; ".join(seen)

    wait.until(probe, component="MLflow and MinIO", awaited="their health endpoints to answer 200",
               timeout=ctx.cfg.timeouts.argocd_sync, interval=ctx.cfg.timeouts.poll_interval,
               next_command="gitopslab doctor --only Apps")


def deliver_model(ctx: Context) -> None:
    wait_for_ml_services(ctx)
    secrets = ctx.state.secrets()
    hello = workspace(ctx) / "pipelines" / "hello-api"
    pin = delivery.seed_model(ctx.cfg, ctx.topo, hello, access_key=secrets["minio_root_user"],
                              secret_key=secrets["minio_root_password"])
    delivery.pin_in_gitops(ctx.cfg, ctx.topo, hello, pin, token=secrets["gitea_token"],
                           overlays=delivery.INITIAL_OVERLAYS)


def workspace_step() -> Step:
    return FuncStep("seed.workspace", "seed content: the GitOps tree and the hello-api template for this lab",
                    _workspace_ready, prepare_workspace)


def image_step() -> Step:
    return FuncStep("delivery.image", "hello-api image built and pushed to the lab registry",
                    lambda c: _registry_has(c, delivery.image_ref(c.topo)),
                    _build_and_push)


def _build_and_push(ctx: Context) -> None:
    # The base image through the room's mirror and with progress; a plain build would pull it silently.
    compose_layer.lab(ctx).require_images({"python": ctx.cfg.image("python")})
    delivery.build_and_push(ctx.cfg, ctx.topo)


def model_step() -> Step:
    # Re-running is safe (the upload refuses different bytes, update-gitops makes no empty commit),
    # so the journal is enough to skip it.
    return FuncStep("delivery.model", "initial model: trained, logged in MLflow, uploaded, pinned in GitOps",
                    lambda c: c.state.is_done("delivery.model"), deliver_model)

