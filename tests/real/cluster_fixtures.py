"""The real cluster tier's pytest fixtures (one cluster, one real Gitea serving the GitOps repo and one Argo CD
per session), imported by tests/real/conftest.py so every cluster test module shares them.

The GitOps repo is the forge tier's real Gitea, brought up by the project's compose layer and seeded by its
own Gitea seeding: Argo CD clones it with the read-only bot token seeding mints, as in a lab."""

from __future__ import annotations

import base64
import contextlib
import io
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from gitopslab.clients.argocd import ArgoCD
from gitopslab.commands.progress import StackReporter
from gitopslab.conductor import runner as orchestrator
from gitopslab.context import Context
from gitopslab.drivers.k3d import context_name
from gitopslab.drivers.kube import Kubectl
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.stack import argocd_layer, compose_layer
from gitopslab.stack.cluster_layer import ClusterDeps, ClusterLayer
from gitopslab.stack.delivery import prepare_workspace, workspace
from gitopslab.stack.gitea import rbac as gitea_rbac
from gitopslab.stack.gitea.hooks import GiteaRepoHooks
from gitopslab.stack.gitea.seed import seed_gitea, whales_exec
from gitopslab.stack.step import Step
from gitopslab.state import LabState
from tests.conftest import REPO, need
from tests.real.cluster_harness import (
    HarnessError,
    RealCluster,
    free_port,
    kubectl_binary,
    module_dir,
    which_missing,
)
from tests.support.compose_lab import lab_settings, remove_lab, write_config

BUILD = REPO / "scripts" / "real-stack" / "build.py"


@dataclass
class ClusterLab:
    name: str
    config: Path
    ctx: Context


@pytest.fixture(scope="session")
def real_cluster_programs() -> None:
    missing = which_missing()
    need(not missing, f"host tools missing: {', '.join(missing)} (scripts/test.sh installs them)")
    done = subprocess.run([sys.executable, str(BUILD), "cluster"], capture_output=True, text=True, timeout=5400)
    need(done.returncode == 0, f"scripts/real-stack/build.py cluster failed:\n{done.stderr[-3000:]}")


def make_cluster_lab(root: Path) -> ClusterLab:
    """A lab's context (config, topology, state) without its compose core: the cluster half only.

    Gitea's name is `localhost`: Argo CD's repo-server resolves with Go, which (unlike libcurl) does not
    map *.localhost to the loopback address; the lab's in-cluster names come from hostAliases instead."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"glc{uuid.uuid4().hex[:8]}"
    settings = lab_settings(name, {}, hostnames={"gitea": "localhost"})
    # The API server and argocd-server listen where the lab's config says, as in a real lab.
    settings["ports"] |= {"kube_api": free_port(), "argocd": free_port()}
    config = write_config(root / "gitopslab.yaml", settings)
    cfg = load_config(config, environ={})
    cfg = cfg.model_copy(update={"timeouts": cfg.timeouts.model_copy(update={"argocd_sync": 300})})
    ctx = Context(cfg=cfg, topo=build(cfg), state=LabState(name, root / "state"))
    ctx.state.put_secret("argocd_webhook_secret", secrets.token_hex(16))
    return ClusterLab(name, config, ctx)


@pytest.fixture(scope="session")
def cluster_lab(tmp_path_factory: pytest.TempPathFactory) -> ClusterLab:
    return make_cluster_lab(tmp_path_factory.mktemp("cluster-lab"))


@dataclass
class GitOps:
    """A clone of the lab's platform/gitops on its real Gitea; commits are pushed to main as the admin
    (devops may push to main; the files the tests touch are not among the protected ones)."""

    tree: Path
    url: str
    auth: str  # an http.extraHeader value: never written to the clone's config

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", "-c", f"http.extraHeader={self.auth}", "-c", "user.name=gitopslab-test",
                               "-c", "user.email=test@gitopslab.invalid", "-C", str(self.tree), *args],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise HarnessError(f"git {' '.join(args)} in {self.tree}: {done.stderr.strip()[-1500:]}")
        return done.stdout

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        self.git("push", "-q", "origin", "HEAD:main")
        return self.git("rev-parse", "HEAD").strip()

    def head(self) -> str:
        return self.git("ls-remote", self.url, "refs/heads/main").split()[0]


@contextlib.contextmanager
def real_gitops(cluster_lab: ClusterLab, root: Path) -> Iterator[GitOps]:
    """The lab's compose core (the forge tier's real Gitea and registry) up, Gitea seeded by the project's
    own seeding with the lab's localized tree, and a clone of platform/gitops to commit to."""
    from python_on_whales import DockerClient

    ctx = cluster_lab.ctx
    try:
        orchestrator.run(ctx, [compose_layer.core_step()])
        prepare_workspace(ctx)
        seed_gitea(ctx, whales_exec(DockerClient(), f"{ctx.topo.lab}-gitea"), content_root=workspace(ctx))
        url = f"{ctx.topo.service('gitea').url}/{gitea_rbac.ORG}/gitops.git"
        login = f"{ctx.cfg.admin_user}:{ctx.state.secret('gitea_admin_password')}"
        repo = GitOps(root / "tree", url, f"Authorization: Basic {base64.b64encode(login.encode()).decode()}")
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-c", f"http.extraHeader={repo.auth}", "clone", "-q", url, str(repo.tree)],
                       check=True, capture_output=True, timeout=120)
        yield repo
    finally:
        remove_lab(ctx)


@pytest.fixture(scope="session")
def gitops(real_forge: list[str], cluster_lab: ClusterLab, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[GitOps]:
    try:
        with real_gitops(cluster_lab, tmp_path_factory.mktemp("gitops")) as repo:
            yield repo
    except HarnessError as exc:
        pytest.fail(str(exc))


def start_cluster(cluster_lab: ClusterLab, root: Path, app_resync: int = 120) -> RealCluster:
    """The control plane, kwok and Argo CD on the lab's API and Argo CD ports; its kubeconfig in the lab's state."""
    ctx = cluster_lab.ctx
    ports = {"apiserver": ctx.cfg.ports.kube_api, "argocd-server": ctx.topo.service("argocd").port}
    real = RealCluster(root, context=context_name(ctx.topo.cluster_name), ports=ports, app_resync=app_resync)
    real.start(argocd=False)  # Argo CD starts with the first test that needs it (bring_up_argocd)
    ctx.state.dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(real.kubeconfig, ctx.state.kubeconfig)  # where the project's Kubectl looks
    return real


@pytest.fixture(scope="session")
def cluster(real_cluster_programs: None, cluster_lab: ClusterLab, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[RealCluster]:
    try:
        real = start_cluster(cluster_lab, tmp_path_factory.mktemp("real-cluster"))
    except HarnessError as exc:  # start() has stopped what it started
        pytest.fail(str(exc))
    try:
        yield real
    finally:
        real.close()


def layer_for(cluster_lab: ClusterLab, real: RealCluster, gitops_dir: Path | None = None, console: Console | None = None,
              ctx: Context | None = None) -> ClusterLayer:
    manifest = module_dir("argocd") / "manifests" / "install.yaml"
    # The project's own webhook registrar, as `up` wires it: it talks to the real Gitea with the seeded token.
    deps = ClusterDeps(argocd_url=real.argocd_url, argocd_manifest=str(manifest), gitops_dir=gitops_dir,
                       kubectl_bin=kubectl_binary(), webhook=GiteaRepoHooks())
    ctx = ctx or cluster_lab.ctx
    ctx.report = StackReporter(console or Console(file=io.StringIO(), width=200))  # the face's drawing
    return ClusterLayer(ctx, deps)


def bring_up_argocd(cluster_lab: ClusterLab, real: RealCluster, tree: Path) -> ClusterLayer:
    """The project's Argo CD steps up to the root app, each checked by its own `done` afterwards."""
    if "argocd-server" not in real.procs:
        real.start_argocd()  # the caller's finalizer (cluster.close) stops what started
    layer = layer_for(cluster_lab, real, tree)
    for step in ("install", "configure", "read_password", "apply_repository", "bootstrap"):
        getattr(argocd_layer, step)(layer)
    assert argocd_layer.installed(layer) and argocd_layer.configured(layer)
    assert argocd_layer.repository_ready(layer) and argocd_layer.bootstrapped(layer)
    hook = webhook_step(layer)
    if not hook.done(layer.ctx):
        hook.apply(layer.ctx)
    assert hook.done(layer.ctx)
    return layer


def webhook_step(layer: ClusterLayer) -> Step:
    """`up`'s argocd.webhook step: the Gitea push hook on platform/gitops, registered through Gitea's API."""
    return next(s for s in argocd_layer.argocd_steps(layer) if s.name == "argocd.webhook")


@pytest.fixture(scope="session")
def argocd_up(cluster: RealCluster, cluster_lab: ClusterLab, gitops: GitOps) -> ClusterLayer:
    try:
        return bring_up_argocd(cluster_lab, cluster, gitops.tree)
    except HarnessError as exc:
        pytest.fail(str(exc))


def argocd_api(cluster: RealCluster, cluster_lab: ClusterLab) -> ArgoCD:
    """The project's Argo CD client, logged in as admin (a test refreshes an app through it: the real Gitea
    cannot deliver its push hook to an Argo CD that runs on the host's loopback)."""
    client = ArgoCD(cluster.argocd_url, timeout=15)
    client.login("admin", cluster_lab.ctx.state.secret("argocd_admin_password"))
    return client


def kubectl(cluster_lab: ClusterLab) -> Kubectl:
    return ClusterLayer(cluster_lab.ctx, ClusterDeps(kubectl_bin=kubectl_binary())).kubectl()
