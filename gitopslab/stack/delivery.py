"""hello-api's first deployment, done by `up` itself with the same template and step scripts the
pipeline uses (pipelines/hello-api), so the lab is whole before any pipeline has run.

    render.pipelines                the template and the copy seeded into Gitea (lab's pins and URLs)
    build_and_push(cfg, topo, ...)  build registry.localhost:5002/hello-api:initial, push it
    seed_model(cfg, topo, ...)      run scripts/ci/train.sh + upload.sh in a step container -> ModelPin
    pin_in_gitops(cfg, topo, ...)   run scripts/ci/update-gitops.sh in a step container (contract edits)
    pin_in_tree(tree, pin, tag)     the same edits on a local checkout of the GitOps tree, no git

A pin rolls hello-api's pods: the overlays' model-configmap.yaml patches a kustomize ConfigMap
generator, whose name carries a hash of the data the Deployment's envFrom follows.

Engine failures surface as EngineError with the command's output, secrets redacted.

The steps of `up` (the lab is whole right after `up`, without waiting for a pipeline):

    seed.workspace   the content Gitea receives: the shipped gitops/ tree and the hello-api template
                     rendered for this lab's names and images (state dir `seed/`)
    delivery.image   registry.localhost:5002/hello-api:initial, built and pushed; the `python` pin
                     pushed to the lab registry, where the CI build step (kaniko) reads its base; the
                     CI image of the python steps (the pipeline's packages, installed once) built and pushed
    delivery.model   (once MLflow and MinIO answer in the cluster) train + upload the initial model
                     through the pipeline's own scripts, then pin its sha256 in platform/gitops, in
                     app-dev and app-prd (app-prd's shipped pin is empty: not-ready until then)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from gitopslab import wait
from gitopslab.clients import loopback
from gitopslab.context import Context
from gitopslab.drivers import image_build
from gitopslab.errors import EngineError, redact
from gitopslab.model.config import LabConfig
from gitopslab.model.mirrors import pip_env
from gitopslab.model.topology import Topology
from gitopslab.model.versions import IMAGES
from gitopslab.render import gitops_tree, multicluster
from gitopslab.render.git_env import git_resolve_env
from gitopslab.render.pipelines import (
    CI_REQUIREMENTS,
    ci_base_image,
    ci_image,
    ci_image_dir,
    pip_index,
    render_template,
    template_dir,
)
from gitopslab.render.proxy import proxy_env
from gitopslab.resources import content_path
from gitopslab.stack import compose_layer, s3_users
from gitopslab.stack.step import FuncStep, Step

IMAGE_NAME = "hello-api"
INITIAL_TAG = "initial"
MODEL_BUCKET = "ml-models"
STEP_LABEL = {"io.gitopslab.component": "hello-api-delivery"}
# The pipeline pins app-dev only (promotion to app-prd is a reviewed pull request); `up`'s initial
# model is the lab's baseline and is pinned in both, so app-prd starts serving instead of not-ready.
PIPELINE_OVERLAYS = ("clusters/app-dev",)
INITIAL_OVERLAYS = ("clusters/app-dev", "clusters/app-prd")
# The kserve profile's InferenceService takes the same pin (its storageUri): the pipeline pins ml-dev
# (update-gitops.sh's default), `up` both environments, as it does app-prd.
INITIAL_MODEL_OVERLAYS = ("clusters/ml-dev/models", "clusters/ml-prd/models")


@dataclass(frozen=True)
class ModelPin:
    """What the GitOps repo pins: the object URI and its sha256 (contract-hello.md)."""

    model_object: str
    model_sha: str


def image_ref(topo: Topology, tag: str = INITIAL_TAG) -> str:
    return f"{topo.registry}/{IMAGE_NAME}:{tag}"


def _docker(cfg: LabConfig | None = None):
    from python_on_whales import DockerClient

    engine = cfg.engine if cfg is not None and cfg.engine != "auto" else "docker"
    return DockerClient(client_call=[engine])


def build_args(cfg: LabConfig | None, base_image: str | None = None, pip_cert: str | None = None,
               index_url: str | None = None) -> dict[str, str]:
    """The Dockerfile's ARGs: the base image, and pip's CA bundle and index where set (an ARG is in the
    environment of the RUN steps after it, so pip reads them there). The index defaults to the room's
    mirror; `up` passes render/pipelines.pip_index (offline: the lab's Gitea)."""
    args = {"BASE_IMAGE": base_image or (cfg.image("python") if cfg else IMAGES["python"])}
    if pip_cert:
        args["PIP_CERT"] = pip_cert
    return args | pip_env(index_url if index_url is not None else (cfg.mirrors.pypi if cfg else ""))


def build_image(ref: str, *, base_image: str | None = None, pip_cert: str | None = None,
                context: Path | None = None, cfg: LabConfig | None = None, index_url: str | None = None,
                network: str | None = None, proxy: Mapping[str, str] | None = None) -> str:
    """Build the hello-api image from the template's Dockerfile (BASE_IMAGE: offline base, else the pin);
    on `network`, the build's pip reaches what only the lab network names (offline: the lab's Gitea).
    `proxy` (render/proxy.proxy_env) reaches the RUN steps as the engine's built-in proxy build args.
    Every value travels in the CLI's environment, never in argv (drivers/image_build.py): a proxy
    login in argv is readable by every local user."""
    args = {**build_args(cfg, base_image, pip_cert, index_url), **(proxy or {})}
    cli = cfg.engine if cfg is not None and cfg.engine != "auto" else "docker"
    done = image_build.build(cli, context or template_dir(), ref, args, network=network)
    if not done.ok:
        logins = [v for k, v in (proxy or {}).items() if k.lower() != "no_proxy"]
        output = redact(f"{done.stdout}\n{done.stderr}".strip(), logins)
        raise EngineError(f"building {ref} failed: {output[-1500:]}",
                          hint="run the same build by hand: docker build pipelines/hello-api")
    return ref


def pip_route(cfg: LabConfig, topo: Topology) -> tuple[str, str | None]:
    """(index, network) of the image build's pip: render/pipelines.pip_index; offline that is the lab's
    Gitea, which only the lab network names, so the build runs on it."""
    return pip_index(cfg, topo), topo.network if cfg.offline else None


def push_image(ref: str, cfg: LabConfig | None = None) -> None:
    from python_on_whales.exceptions import DockerException

    try:
        _docker(cfg).push(ref, quiet=True)
    except DockerException as exc:
        registry = ref.split("/", 1)[0]
        raise EngineError(f"pushing {ref} failed: {redact(str(exc))[-800:]}",
                          hint=f"check that {registry} resolves and answers: gitopslab doctor") from exc


def build_and_push(cfg: LabConfig, topo: Topology, *, tag: str = INITIAL_TAG, base_image: str | None = None,
                   pip_cert: str | None = None) -> str:
    """`up`'s initial image: registry.localhost:5002/hello-api:initial, built and pushed."""
    ref = image_ref(topo, tag)
    index_url, network = pip_route(cfg, topo)
    build_image(ref, base_image=base_image, pip_cert=pip_cert, cfg=cfg, index_url=index_url, network=network,
                proxy=proxy_env(cfg, topo))
    push_image(ref, cfg)
    return ref


def push_ci_base(cfg: LabConfig, topo: Topology) -> str:
    """The `python` pin, from the engine's store, into the lab registry under the name the CI build step
    reads its base from (render/pipelines.ci_base_image): kaniko fetches a base image from a registry,
    never from the engine, and offline Docker Hub is out of reach (issue 22.4)."""
    from python_on_whales.exceptions import DockerException

    ref = ci_base_image(cfg, topo)
    try:
        _docker(cfg).tag(cfg.image("python"), ref)
    except DockerException as exc:
        raise EngineError(f"tagging {cfg.image('python')} as {ref} failed: {redact(str(exc))[-800:]}",
                          hint="check that the engine holds it: docker image ls; then run `gitopslab up` "
                               "again") from exc
    push_image(ref, cfg)
    return ref


def build_ci_image(cfg: LabConfig, topo: Topology, *, base_image: str | None = None,
                   pip_cert: str | None = None) -> str:
    """The CI image of hello-api's python steps (render/pipelines.ci_image): the `python` pin with the
    pipeline's packages, installed once here through the lab's pip route (offline: the lab's Gitea, on
    the lab network), so no pipeline run installs them from the index. Built, not pushed: the agent
    runs steps on this engine, which then holds it (image_step pushes it too)."""
    ref = ci_image(cfg, topo)
    index_url, network = pip_route(cfg, topo)
    with tempfile.TemporaryDirectory(prefix="gitopslab-ci-image-") as tmp:
        context = Path(tmp)
        shutil.copy2(ci_image_dir() / "Dockerfile", context / "Dockerfile")
        for name in CI_REQUIREMENTS:
            shutil.copy2(template_dir() / name, context / name)
        build_image(ref, base_image=base_image, pip_cert=pip_cert, context=context, cfg=cfg, index_url=index_url,
                    network=network, proxy=proxy_env(cfg, topo))
    return ref


def run_step(image: str, workspace: Path, script: str, env: Mapping[str, str], *, network: str,
             cfg: LabConfig | None = None, secrets: tuple[str, ...] = (),
             labels: Mapping[str, str] | None = None) -> str:
    """Run one pipeline step script in a container, as a Woodpecker agent would: the repo mounted as
    the workspace, the step's environment, on the lab network so the lab's names resolve.
    The environment reaches the engine in an env file only this user can read (`--env-file`, removed
    after), never in the `docker run` argv, which every local user can read in /proc/*/cmdline."""
    from python_on_whales.exceptions import DockerException

    with step_env_file(env) as env_file:
        try:
            # The entrypoint replaced, as Woodpecker's docker backend replaces every step's: the pinned git
            # image's is `git` (alpine/git: ENTRYPOINT ["git"]), which would run `git sh ...`.
            return str(_docker(cfg).run(
                image, [f"scripts/ci/{script}"], entrypoint="sh", volumes=[(str(workspace), "/workspace")],
                workdir="/workspace", env_files=[env_file], networks=[network], remove=True,
                labels={**STEP_LABEL, **(labels or {})},
            ))
        except DockerException as exc:
            raise EngineError(f"step {script} in {image} failed: {redact(str(exc), secrets)[-2000:]}",
                              hint=f"re-run it by hand in {workspace}: sh scripts/ci/{script}") from exc


@contextlib.contextmanager
def step_env_file(env: Mapping[str, str]) -> Iterator[Path]:
    """`env` as a docker env file: a new file, 0600 from its creation (mkstemp), in the user's temp
    folder (not the workspace, which the step container mounts), deleted when the step is done."""
    bad = [k for k, v in env.items() if "\n" in k + v or "=" in k]
    if bad:  # the env-file format has no quoting: a newline would start another variable
        raise EngineError(f"step variables {', '.join(sorted(bad))} hold a newline or '=' in the name",
                          hint="report this as a gitopslab bug")
    fd, name = tempfile.mkstemp(prefix="gitopslab-step-", suffix=".env")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines(f"{k}={v}\n" for k, v in env.items())
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def seed_model(cfg: LabConfig, topo: Topology, workspace: Path, *, access_key: str, secret_key: str,
               model_id: str = INITIAL_TAG, image: str | None = None, network: str | None = None,
               extra_env: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None) -> ModelPin:
    """Train + upload the initial model through the pipeline's own scripts: MLflow records the run and
    a registered version, the S3 store holds ml-models/iris-<model_id>.joblib pinned by sha256.
    As in the pipeline, only the upload gets the S3 login (MLflow proxies its own artifacts)."""
    env = {
        "MODEL_ID": model_id,
        "IMAGE_TAG": INITIAL_TAG,
        "MLFLOW_TRACKING_URI": topo.service("mlflow").url,
        "S3_ENDPOINT_URL": topo.service("minio_api").url,
        **proxy_env(cfg, topo),
        **pip_env(pip_index(cfg, topo)),
        **(extra_env or {}),
    }
    s3_login = {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    step_image, net = image or cfg.image("python"), network or topo.network
    for script, step_env in (("train.sh", env), ("upload.sh", {**env, **s3_login})):
        run_step(step_image, workspace, script, step_env, network=net, cfg=cfg, secrets=(secret_key,),
                 labels={**topo.labels, **(labels or {})})
    return read_pin(workspace / "dist" / "release.env")


def read_pin(release_env: Path) -> ModelPin:
    values = dict(line.split("=", 1) for line in release_env.read_text().splitlines() if "=" in line)
    return ModelPin(model_object=values["MODEL_OBJECT"], model_sha=values["MODEL_SHA"])


def pin_in_gitops(cfg: LabConfig, topo: Topology, workspace: Path, pin: ModelPin, *, token: str,
                  tag: str | None = INITIAL_TAG, network: str | None = None,
                  overlays: tuple[str, ...] = PIPELINE_OVERLAYS, model_overlays: tuple[str, ...] | None = None) -> str:
    """Commit the pin (and the image tag) to platform/gitops on Gitea, as the update-gitops step does.
    Not a Woodpecker step, so WOODPECKER_ENVIRONMENT does not reach it: it gets the lab's git variables
    here, or libcurl would send gitea.localhost to the container's own loopback (render/git_env.py)."""
    env = {"GITOPS_REPO": f"{topo.service('gitea').url}/platform/gitops.git", "GITEA_TOKEN": token,
           "MODEL_OBJECT": pin.model_object, "MODEL_SHA": pin.model_sha, "IMAGE_TAG": tag or "",
           "GITOPS_OVERLAYS": " ".join(overlays), **_model_overlays_env(model_overlays), **git_resolve_env(topo)}
    return run_step(cfg.image("alpine-git"), workspace, "update-gitops.sh", env,
                    network=network or topo.network, cfg=cfg, secrets=(token,), labels=topo.labels)


def _model_overlays_env(model_overlays: tuple[str, ...] | None) -> dict[str, str]:
    """None: update-gitops.sh's own default (clusters/ml-dev/models), as in the pipeline."""
    return {} if model_overlays is None else {"GITOPS_MODEL_OVERLAYS": " ".join(model_overlays)}


def pin_in_tree(tree: Path, pin: ModelPin, tag: str | None = INITIAL_TAG,
                overlays: tuple[str, ...] = PIPELINE_OVERLAYS, model_overlays: tuple[str, ...] | None = None) -> None:
    """Apply the update-gitops edits to a local GitOps tree (before it is seeded), with no git."""
    import os

    from gitopslab.drivers import proc

    env = {**os.environ, "MODEL_OBJECT": pin.model_object, "MODEL_SHA": pin.model_sha, "IMAGE_TAG": tag or "",
           "GITOPS_OVERLAYS": " ".join(overlays), **_model_overlays_env(model_overlays)}
    env.pop("DIST", None)
    result = proc.run(["sh", str(template_dir() / "scripts" / "ci" / "update-gitops.sh"), "--edit-only",
                       str(tree)], env=env, inherit_env=False, timeout=60)
    if not result.ok:
        raise EngineError(f"pinning the model in {tree} failed: {result.stderr.strip()}",
                          hint=f"each of {', '.join(overlays)} needs kustomization.yaml and model-configmap.yaml")


# --- the steps of `up` ---------------------------------------------------------------------------
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
    repoURLs, sourceRepos, image names and MLflow's allowed hosts and origins match what is reached;
    offline, the observability chart is read from the lab's Gitea."""
    swaps = gitops_tree.localizations(ctx.topo, offline=ctx.cfg.offline)
    per_file = multicluster.tree_swaps(ctx.topo)  # multicluster: prd names its own cluster
    if not swaps and not per_file:
        return
    for path in tree.rglob("*.y*ml"):
        text = path.read_text(encoding="utf-8")
        changed = gitops_tree.localize(text, per_file.get(path.relative_to(tree).as_posix(), []) + swaps)
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
    # The CI user (s3_users, a step before this one), as the pipeline uploads: never the store's root login.
    ci = s3_users.USERS["ci"]
    # In the CI image that `delivery.image` built (the pipeline's packages installed once): without it,
    # train.sh would install requirements-dev.txt from the index a second time here.
    pin = seed_model(ctx.cfg, ctx.topo, hello, access_key=ci.access_key, secret_key=secrets[ci.secret],
                     image=ci_image(ctx.cfg, ctx.topo))
    pin_in_gitops(ctx.cfg, ctx.topo, hello, pin, token=secrets["gitea_token"],
                  overlays=INITIAL_OVERLAYS, model_overlays=INITIAL_MODEL_OVERLAYS)


def workspace_step() -> Step:
    return FuncStep("seed.workspace", "seed content: the GitOps tree and the hello-api template for this lab",
                    _workspace_ready, prepare_workspace)


def image_step() -> Step:
    return FuncStep("delivery.image", "hello-api image, the CI build's base and the CI image in the lab registry",
                    lambda c: all(_registry_has(c, ref) for ref in (image_ref(c.topo), ci_base_image(c.cfg, c.topo),
                                                                      ci_image(c.cfg, c.topo))),
                    _build_and_push)


def _build_and_push(ctx: Context) -> None:
    # The base image through the room's mirror and with progress; a plain build would pull it silently.
    compose_layer.lab(ctx).require_images({"python": ctx.cfg.image("python")})
    push_ci_base(ctx.cfg, ctx.topo)
    push_image(build_ci_image(ctx.cfg, ctx.topo), ctx.cfg)
    build_and_push(ctx.cfg, ctx.topo)


def model_step() -> Step:
    # Re-running is safe (the upload refuses different bytes, update-gitops makes no empty commit),
    # so the journal is enough to skip it.
    return FuncStep("delivery.model", "initial model: trained, logged in MLflow, uploaded, pinned in GitOps",
                    lambda c: c.state.is_done("delivery.model"), deliver_model)

