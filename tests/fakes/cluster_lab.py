"""Fixtures of the cluster layer's tests: a lab context in tmp state, the recording runner (FakeWorld),
a GitOps tree with an AppProject and the root Application, and a layer wired to all of them."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from gitopslab.commands.progress import StackReporter
from gitopslab.context import Context
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import Topology
from gitopslab.render import argocd as objs
from gitopslab.stack.cluster_layer import ClusterDeps, ClusterLayer
from gitopslab.stack.events import Notice
from tests.fakes.clock import FakeClock
from tests.fakes.cluster import FakeArgoCD, FakeEdge, FakeGiteaHooks, FakeWorld, app


def write_gitops_tree(root: Path, topo: Topology) -> Path:
    """An AppProject and the root Application as the GitOps tree ships them (repoURL from topology)."""
    repo = objs.gitops_repo_url(topo)
    project = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
        "metadata": {"name": "platform", "namespace": "argocd"},
        "spec": {"description": "platform team", "sourceRepos": [repo],
                 "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "*"}],
                 "clusterResourceWhitelist": [{"group": "*", "kind": "*"}]},
    }
    root_app = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "root", "namespace": "argocd"},
        "spec": {"project": "platform",
                 "source": {"repoURL": repo, "targetRevision": "main", "path": "_main_apps"},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": "argocd"},
                 "syncPolicy": {"automated": {"prune": True, "selfHeal": True}}},
    }
    (root / "projects").mkdir(parents=True)
    (root / "bootstrap").mkdir(parents=True)
    (root / "projects" / "platform.yaml").write_text(yaml.safe_dump(project))
    (root / "bootstrap" / "root-app.yaml").write_text(yaml.safe_dump(root_app))
    return root


@pytest.fixture
def k3d_schema(contracts_dir: Path) -> dict[str, Any]:
    return json.loads((contracts_dir / "k3d-config.schema.json").read_text())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


DEVICE_PLUGIN_MANIFEST = """\
# Copyright (c) 2019, NVIDIA CORPORATION.  All rights reserved.
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: nvidia-device-plugin-daemonset
  namespace: kube-system
spec:
  selector:
    matchLabels:
      name: nvidia-device-plugin-ds
  updateStrategy:
    type: RollingUpdate
  template:
    metadata:
      labels:
        name: nvidia-device-plugin-ds
    spec:
      tolerations:
      - key: nvidia.com/gpu
        operator: Exists
        effect: NoSchedule
      priorityClassName: "system-node-critical"
      containers:
      - image: nvcr.io/nvidia/k8s-device-plugin:v0.20.0
        name: nvidia-device-plugin-ctr
        env:
          - name: FAIL_ON_INIT_ERROR
            value: "false"
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop: ["ALL"]
        volumeMounts:
        - name: device-plugin
          mountPath: /var/lib/kubelet/device-plugins
      volumes:
      - name: device-plugin
        hostPath:
          path: /var/lib/kubelet/device-plugins
"""


class Lab:
    """One lab under test: its context, the world behind the process boundary, the fakes, the output."""

    def __init__(self, cfg: LabConfig, world: FakeWorld, gitops: Path, clock: FakeClock,
                 argocd: FakeArgoCD | None) -> None:
        self.ctx = Context.from_config(cfg)
        self.ctx.report = self.record
        self.world = world
        self.edge = FakeEdge(world)
        self.hooks = FakeGiteaHooks(world)
        self.clock = clock
        self.out = io.StringIO()
        self.notices: list[str] = []
        self.face = StackReporter(Console(file=self.out, width=160, force_terminal=False, color_system=None))
        self.fetched: list[str] = []
        self.argocd = argocd
        self.gitops = gitops

    def fetch(self, url: str) -> str:
        self.fetched.append(url)
        return DEVICE_PLUGIN_MANIFEST

    def deps(self) -> ClusterDeps:
        return ClusterDeps(
            runner=self.world, which=lambda name: f"/usr/bin/{name}" if self.world.gpus else None,
            cdi_dirs=(), edge=self.edge, webhook=self.hooks, fetch=self.fetch,
            argocd_url=self.argocd.url if self.argocd else None, gitops_dir=self.gitops,
            sleep=self.clock.sleep, clock=self.clock,
            pull_image=lambda ctx, image: self.world.pull(image),
        )

    def layer(self, cfg: LabConfig | None = None) -> ClusterLayer:
        if cfg is not None:
            self.ctx = Context.from_config(cfg)
            self.ctx.report = self.record
        return ClusterLayer(self.ctx, self.deps())

    def record(self, event: object) -> None:
        """What the stack reports: notices kept as text, the rest drawn by the face into `out`."""
        if isinstance(event, Notice):
            self.notices.append(event.text)
        self.face(event)


@pytest.fixture
def make_lab(tmp_path: Path, k3d_schema: dict[str, Any], clock: FakeClock) -> Iterator[Callable[..., Lab]]:
    servers: list[FakeArgoCD] = []

    def make(cfg: LabConfig | None = None, gpus: list[str] | None = None, nvidia_runtime: bool = False,
             snapshots: list[list[dict[str, Any]]] | None = None) -> Lab:
        cfg = cfg or LabConfig()
        ctx = Context.from_config(cfg)
        ctx.state.put_secret("gitea_argocd_token", "read-only-token-of-gitopslab-argocd")  # as seeding leaves it
        runtimes: dict[str, Any] = {"io.containerd.runc.v2": {"path": "runc"}, "runc": {"path": "runc"}}
        if nvidia_runtime:
            runtimes["nvidia"] = {"path": "nvidia-container-runtime"}
        world = FakeWorld(network=ctx.topo.network, k3d_schema=k3d_schema, gpus=gpus or [], runtimes=runtimes)
        gitops = write_gitops_tree(tmp_path / f"gitops-{len(servers)}", ctx.topo)
        snaps = snapshots or [[app("root", "OutOfSync", "Missing")],
                              [app("root", "Synced", "Progressing"), app("hello-api-dev", "OutOfSync", "Missing")],
                              [app("root", "Synced", "Healthy"), app("hello-api-dev", "Synced", "Healthy")]]
        server = FakeArgoCD(world.admin_password, snaps).__enter__()
        servers.append(server)
        return Lab(cfg, world, gitops, clock, server)

    yield make
    for server in servers:
        server.__exit__(None, None, None)
