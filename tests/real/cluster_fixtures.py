"""The real cluster tier's pytest fixtures (one cluster, one served GitOps repo and one Argo CD per session),
imported by tests/real/conftest.py so every cluster test module shares them."""

from __future__ import annotations

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

from gitopslab.config import load_config
from gitopslab.context import Context
from gitopslab.k3d import context_name
from gitopslab.kube import Kubectl
from gitopslab.render.argocd import GITOPS_REPO_PATH
from gitopslab.stack import argocd_layer
from gitopslab.stack.cluster_layer import ClusterDeps, ClusterLayer, shipped_dir
from gitopslab.stack.first_delivery import localize_tree
from gitopslab.state import LabState
from gitopslab.topology import build
from tests.compose.support import lab_settings, write_config
from tests.conftest import REPO, need
from tests.real.cluster_harness import (
    HarnessError,
    RealCluster,
    free_port,
    kubectl_binary,
    module_dir,
    which_missing,
)
from tests.real.git_http import GitHTTPServer, publish

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
    ctx.state.put_secret("gitea_admin_password", secrets.token_hex(12))
    ctx.state.put_secret("argocd_webhook_secret", secrets.token_hex(16))
    # What Gitea seeding mints for Argo CD's repository Secret; the tree's git server here asks no credentials.
    ctx.state.put_secret("gitea_argocd_token", secrets.token_hex(20))
    return ClusterLab(name, config, ctx)


@pytest.fixture(scope="session")
def cluster_lab(tmp_path_factory: pytest.TempPathFactory) -> ClusterLab:
    return make_cluster_lab(tmp_path_factory.mktemp("cluster-lab"))


@dataclass
class GitOps:
    tree: Path  # the lab's localized GitOps tree, as committed
    bare: Path

    def commit(self, message: str) -> str:
        return publish(self.tree, self.bare, message)

    def head(self) -> str:
        done = subprocess.run(["git", "-C", str(self.bare), "rev-parse", "main"], capture_output=True, text=True,
                              check=True)
        return done.stdout.strip()


def seed_gitops(cluster_lab: ClusterLab, root: Path) -> tuple[GitOps, GitHTTPServer]:
    """The shipped GitOps tree, localized for the lab, committed and served at the lab's Gitea URL."""
    tree = root / "tree"
    shutil.copytree(shipped_dir("gitops"), tree)
    localize_tree(cluster_lab.ctx, tree)
    repos = root / "repos"
    bare = repos / GITOPS_REPO_PATH
    bare.parent.mkdir(parents=True)
    repo = GitOps(tree, bare)
    repo.commit("seed: the lab's GitOps tree")
    return repo, GitHTTPServer(repos, cluster_lab.ctx.topo.service("gitea").port)


@pytest.fixture(scope="session")
def gitops(cluster_lab: ClusterLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitOps]:
    repo, server = seed_gitops(cluster_lab, tmp_path_factory.mktemp("gitops"))
    with server:
        yield repo


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
    deps = ClusterDeps(argocd_url=real.argocd_url, argocd_manifest=str(manifest), gitops_dir=gitops_dir,
                       kubectl_bin=kubectl_binary(),
                       console=console or Console(file=io.StringIO(), width=200))
    return ClusterLayer(ctx or cluster_lab.ctx, deps)


def bring_up_argocd(cluster_lab: ClusterLab, real: RealCluster, tree: Path) -> ClusterLayer:
    """The project's Argo CD steps up to the root app, each checked by its own `done` afterwards."""
    if "argocd-server" not in real.procs:
        real.start_argocd()  # the caller's finalizer (cluster.close) stops what started
    layer = layer_for(cluster_lab, real, tree)
    for step in ("install", "configure", "read_password", "apply_repository", "bootstrap"):
        getattr(argocd_layer, step)(layer)
    assert argocd_layer.installed(layer) and argocd_layer.configured(layer)
    assert argocd_layer.repository_ready(layer) and argocd_layer.bootstrapped(layer)
    return layer


@pytest.fixture(scope="session")
def argocd_up(cluster: RealCluster, cluster_lab: ClusterLab, gitops: GitOps) -> ClusterLayer:
    try:
        return bring_up_argocd(cluster_lab, cluster, gitops.tree)
    except HarnessError as exc:
        pytest.fail(str(exc))


def kubectl(cluster_lab: ClusterLab) -> Kubectl:
    return ClusterLayer(cluster_lab.ctx, ClusterDeps(kubectl_bin=kubectl_binary())).kubectl()
