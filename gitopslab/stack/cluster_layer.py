"""The cluster layer: a k3d cluster on the lab network (registry mirror, split-horizon hostAliases,
NodePorts on 127.0.0.1), its kubeconfig in the state dir, the edge forwarder, and in the `gpu` profile
the CUDA node image, RuntimeClass `nvidia` and the NVIDIA device plugin. Argo CD on top of it lives in
`gitopslab.stack.argocd_layer`.

Wiring (`gitopslab up`):

    layer = ClusterLayer(ctx, ClusterDeps(edge=..., webhook=...))
    guard.refuse_incompatible(ctx, layer)      # the conductor's one settings guard, before any step
    steps = layer.cluster_steps()              # may run beside the compose layer
    ...                                        # Gitea seeded
    steps = argocd_layer.argocd_steps(layer)   # Argo CD, repo, bootstrap, webhook, wait
    layer.stop() / layer.remove()              # down / destroy
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from gitopslab import wait
from gitopslab.context import Context
from gitopslab.drivers import gpu as gpu_mod
from gitopslab.drivers import proc
from gitopslab.drivers.k3d import ClusterInfo, K3d, context_name
from gitopslab.drivers.kube import Kubectl
from gitopslab.errors import NotBuiltError, ToolError
from gitopslab.files import write_private
from gitopslab.model.topology import LABEL, Cluster
from gitopslab.model.versions import NVIDIA_CONTAINER_TOOLKIT_VERSION, NVIDIA_DEVICE_PLUGIN_URL
from gitopslab.render import k3d as k3d_render
from gitopslab.render import names as names_render
from gitopslab.resources import content_path
from gitopslab.stack.cluster_settings import additions
from gitopslab.stack.events import Notice
from gitopslab.stack.step import FuncStep, Step

DEVICE_PLUGIN = ("daemonset", "nvidia-device-plugin-daemonset", "kube-system")


class EdgeControl(Protocol):
    """The edge forwarder (a compose service behind a profile, owned by the compose layer)."""

    def running(self, ctx: Context) -> bool: ...

    def start(self, ctx: Context) -> None: ...


class WebhookRegistrar(Protocol):
    """Gitea's repo hooks for platform/gitops (wired to the Gitea client by `up`)."""

    def exists(self, ctx: Context, url: str) -> bool: ...

    def create(self, ctx: Context, url: str, secret: str) -> None: ...


def _http_get(url: str) -> str:
    import httpx

    response = httpx.get(url, timeout=httpx.Timeout(30.0), follow_redirects=True)
    response.raise_for_status()
    return response.text


@dataclass
class ClusterDeps:
    """Everything the layer talks to; tests replace the runner (the process boundary) and the rest."""

    runner: proc.Runner = proc.run
    k3d_bin: str = "k3d"
    kubectl_bin: str = "kubectl"
    engine_cli: str = "docker"
    which: Callable[[str], str | None] = shutil.which
    cdi_dirs: Sequence[Path] = gpu_mod.CDI_DIRS
    edge: EdgeControl | None = None
    webhook: WebhookRegistrar | None = None
    # Pulls an image into the engine (ctx, image). None: the compose layer's pull, so the node image
    # goes through the room's mirror and shows its bytes like every other pull.
    pull_image: Callable[[Context, str], None] | None = None
    fetch: Callable[[str], str] = _http_get
    argocd_url: str | None = None
    # The pinned install manifest from elsewhere than its release URL (the real tier: the Argo CD module's copy).
    argocd_manifest: str | None = None
    argocd_transport: Any = None
    gitops_dir: Path | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    extra: dict[str, Any] = field(default_factory=dict)


def shipped_dir(name: str) -> Path:
    """Seed content (gitops/, images/), found by gitopslab/resources.py."""
    return content_path(name)


class ClusterLayer:
    def __init__(self, ctx: Context, deps: ClusterDeps | None = None) -> None:
        self.ctx = ctx
        self.deps = deps or ClusterDeps()
        self.k3d = K3d(binary=self.deps.k3d_bin, runner=self.deps.runner)
        self._gpu: bool | None = None

    # --- facts ---------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.ctx.topo.cluster_name

    @property
    def gpu(self) -> bool:
        """Resolved once: `on` without a GPU raises PreflightError, `auto` falls back with a notice."""
        if self._gpu is None:
            self._gpu = gpu_mod.resolve(
                self.ctx.cfg.gpu,
                lambda: gpu_mod.detect(self.deps.runner, self.deps.engine_cli, self.deps.which, self.deps.cdi_dirs),
                lambda text: self.ctx.report(Notice(text)),
            )
        return self._gpu

    @property
    def config_file(self) -> Path:
        return self.ctx.state.dir / "k3d" / "cluster.yaml"

    @property
    def kubeconfig(self) -> Path:
        return self.ctx.state.kubeconfig

    # Where `up` records this cluster's settings in settings.json, and which services this cluster serves.
    settings_key = "cluster"
    role: Cluster = "dev"

    def render_config(self) -> str:
        return k3d_render.render_config(self.ctx.cfg, self.ctx.topo, self.gpu)

    def kubectl(self) -> Kubectl:
        return Kubectl(self.kubeconfig, context_name(self.name), binary=self.deps.kubectl_bin,
                       runner=self.deps.runner, secrets=self.ctx.state.secrets().values())

    def node_image(self) -> str:
        return k3d_render.node_image(self.ctx.cfg, self.gpu)

    # --- stored settings -------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """What a running cluster cannot change in place (k3d bakes it in at create)."""
        topo = self.ctx.topo
        return {
            "cluster": self.name,
            "network": topo.network,
            "subnet": topo.subnet,
            "kube_api_port": topo.kube_api_port,
            "ports": {s.key: f"{s.port}:{s.node_port}" for s in topo.in_cluster(self.role) if s.node_port},
            "host_aliases": {ip: sorted(names) for ip, names in topo.pod_host_aliases().items()},
            "registry": topo.registry,
            "gpu": self.gpu,
            "image": self.node_image(),
        }

    def incompatible_changes(self) -> list[str]:
        """What the existing cluster was made with and cannot take now (the conductor's settings
        guard refuses them before any step runs); empty when there is no such cluster."""
        stored = (self.ctx.state.stored_settings() or {}).get(self.settings_key)
        if not stored:
            return []
        new = self.settings()
        changes = _diff(stored, new)
        if not changes or self.k3d.cluster_get(self.name) is None:
            return []
        if additions(stored, new) is not None:
            return []  # only new ports and names (a profile turned on): `cluster.extend` adds them in place
        return changes

    def _store_settings(self) -> None:
        data = dict(self.ctx.state.stored_settings() or {})
        data[self.settings_key] = self.settings()
        self.ctx.state.store_settings(data)

    # --- steps -----------------------------------------------------------------------------------
    def cluster_steps(self) -> list[Step]:
        steps: list[Step] = []
        if self.gpu:
            steps.append(FuncStep("cluster.gpu-image", "build the CUDA node image",
                                  lambda c: self._image_present(), lambda c: self._build_gpu_image()))
        elif not self.ctx.cfg.offline:
            # k3d would pull it silently inside `cluster create`; pulled here, the person sees its bytes.
            steps.append(FuncStep("cluster.node-image", f"k3s node image {self.node_image()}",
                                  lambda c: self._image_present(), lambda c: self._pull_node_image()))
        steps.append(FuncStep("cluster.create", "k3d cluster (registry mirror, lab names, NodePorts)",
                              lambda c: self._cluster_ready(), lambda c: self._ensure_cluster()))
        steps.append(FuncStep("cluster.names", "lab names for pods in coredns-custom (kept across restarts)",
                              lambda c: self._names_ready(), lambda c: self._ensure_names()))
        steps.append(FuncStep("cluster.edge", "edge forwarder (cluster services inside the lab network)",
                              lambda c: self._edge().running(self.ctx), lambda c: self._edge().start(self.ctx)))
        if self.gpu:
            steps.append(FuncStep("cluster.gpu", "RuntimeClass nvidia + NVIDIA device plugin",
                                  lambda c: self._device_plugin_ready(), lambda c: self._install_device_plugin()))
        return steps

    # cluster ------------------------------------------------------------------------------------
    def _cluster_ready(self) -> bool:
        info = self.k3d.cluster_get(self.name)
        return bool(info and info.running and self.kubeconfig.is_file())

    def _ensure_cluster(self) -> None:
        info = self.k3d.cluster_get(self.name)
        if info is None:
            self._wait_for_network()
            # 0600: the config carries the proxy's login (k3d passes it to the nodes' environment)
            write_private(self.config_file, self.render_config())
            self.k3d.cluster_create(self.config_file)
            self._store_settings()
        elif not info.running:
            self.k3d.cluster_start(self.name)
        # An existing cluster's settings are recorded by `cluster.extend`, once what they add is applied.
        self._write_kubeconfig()

    def _names_ready(self) -> bool:
        kind, name, namespace = names_render.COREDNS_CUSTOM
        live = self.kubectl().exists(kind, name, namespace)
        want = names_render.coredns_custom(self.ctx.topo)["data"]
        return live is not None and all((live.get("data") or {}).get(k) == v for k, v in want.items())

    def _ensure_names(self) -> None:
        """coredns-custom holds the lab's names (k3s never rewrites it, unlike NodeHosts); CoreDNS is
        restarted so it mounts the ConfigMap now, not after kubelet's next sync and CoreDNS's reload."""
        kube = self.kubectl()
        kube.apply(stdin=yaml.safe_dump(names_render.coredns_custom(self.ctx.topo), sort_keys=False),
                   force_conflicts=True)
        kube.rollout_restart("deployment/coredns", "kube-system")

    def _write_kubeconfig(self) -> None:
        write_private(self.kubeconfig, self.k3d.kubeconfig_get(self.name))

    def _wait_for_network(self) -> None:
        """The compose layer makes the lab network (fixed subnet); k3d must join it, not invent it."""
        network = self.ctx.topo.network

        def probe() -> tuple[bool, str]:
            result = self.deps.runner([self.deps.engine_cli, "network", "inspect", network], timeout=30)
            return result.ok, "present" if result.ok else result.last_error_line()

        wait.until(probe, component="cluster", awaited=f"the lab network {network!r}",
                   timeout=self.ctx.cfg.timeouts.service_ready, interval=self.ctx.cfg.timeouts.poll_interval,
                   next_command="the compose layer creates it: check `gitopslab status`, then `gitopslab up`",
                   clock=self.deps.clock, sleep=self.deps.sleep)

    def _edge(self) -> EdgeControl:
        if self.deps.edge is None:
            raise NotBuiltError("the edge forwarder is not wired into this build of `up`",
                                hint="pass ClusterDeps(edge=...) (compose layer's edge service)")
        return self.deps.edge

    # gpu ----------------------------------------------------------------------------------------
    def _image_present(self) -> bool:
        return self.deps.runner([self.deps.engine_cli, "image", "inspect", self.node_image()], timeout=30).ok

    def _pull_node_image(self) -> None:
        if self.deps.pull_image is not None:
            self.deps.pull_image(self.ctx, self.node_image())
            return
        from gitopslab.stack import compose_layer

        compose_layer.lab(self.ctx).require_images({"k3s node": self.node_image()})

    def _build_gpu_image(self) -> None:
        cfg = self.ctx.cfg
        argv = [self.deps.engine_cli, "build", "-t", self.node_image(),
                "--build-arg", f"K3S_IMAGE={cfg.image('k3s')}",
                "--build-arg", f"CUDA_IMAGE={cfg.image('k3s-cuda-base')}",
                "--build-arg", f"NVIDIA_CTK_VERSION={NVIDIA_CONTAINER_TOOLKIT_VERSION}",
                str(shipped_dir("images") / "k3s-cuda")]
        result = self.deps.runner(argv, timeout=1800, env={"DOCKER_BUILDKIT": "1"})
        if not result.ok:
            raise ToolError(f"building the CUDA node image failed: {result.last_error_line()}",
                            hint="it needs internet and BuildKit; run again, or `--gpu off` to use CPU")

    def _device_plugin_ready(self) -> bool:
        kube = self.kubectl()
        if kube.exists("runtimeclass", "nvidia") is None:
            return False
        ds = kube.exists(*DEVICE_PLUGIN)
        spec = ((ds or {}).get("spec") or {}).get("template", {}).get("spec", {})
        return spec.get("runtimeClassName") == "nvidia"

    def _install_device_plugin(self) -> None:
        kube = self.kubectl()
        kube.apply(stdin=yaml.safe_dump(RUNTIME_CLASS, sort_keys=False))
        manifest = patch_device_plugin(self.deps.fetch(NVIDIA_DEVICE_PLUGIN_URL))
        kube.apply(stdin=manifest, force_conflicts=True)

    # --- down / destroy / status -----------------------------------------------------------------
    def owned(self) -> ClusterInfo | None:
        """The cluster of the lab's name, only when its server node carries the lab's label (the k3d
        config puts it on every node); a cluster that merely has the name is someone else's."""
        info = self.k3d.cluster_get(self.name)
        return info if info is not None and self._labelled() else None

    def _labelled(self) -> bool:
        # k3d's JSON keeps only k3d.* labels, so ask the engine for the node containers' labels.
        argv = [self.deps.engine_cli, "ps", "-a", "--filter", f"label=k3d.cluster={self.name}",
                "--filter", "label=k3d.role=server", "--filter", f"label={LABEL}={self.ctx.topo.lab}",
                "--format", "{{.Names}}"]
        result = self.deps.runner(argv, timeout=60)
        if not result.ok:
            raise ToolError(f"`{' '.join(argv)}` failed: {result.last_error_line()}",
                            hint="check that the container engine answers (`docker info`)")
        return bool(str(result.stdout).strip())

    def foreign_note(self) -> str:
        return (f"cluster: {self.name} exists but is not this lab's (its nodes lack the label "
                f"{LABEL}={self.ctx.topo.lab}): left alone; if it is yours, `k3d cluster delete {self.name}`")

    def preview(self) -> str:
        """destroy's preview line for the cluster (reads only)."""
        info = self.k3d.cluster_get(self.name)
        if info is None:
            return "cluster: (none)"
        if not self._labelled():
            return self.foreign_note()
        return f"cluster: {self.name} (k3d, {len(info.nodes)} nodes: {', '.join(n for n, _, _ in info.nodes)})"

    def stop(self) -> bool:
        """`down`: stop the nodes, keep the cluster's disk. False when the lab has no cluster."""
        if self.owned() is None:
            return False
        self.k3d.cluster_stop(self.name)
        return True

    def remove(self) -> bool:
        """`destroy`: delete the lab's cluster (never one without its label) and what the state dir
        held for it."""
        existed = self.owned() is not None
        if existed:
            self.k3d.cluster_delete(self.name)
        self.ctx.state.kubeconfig.unlink(missing_ok=True)
        self.config_file.unlink(missing_ok=True)
        if self.ctx.state.secrets_file.exists():
            self.ctx.state.forget_secret("argocd_admin_password")
        stored = dict(self.ctx.state.stored_settings() or {})
        if stored.pop("cluster", None) is not None:
            self.ctx.state.store_settings(stored)
        return existed

    def status(self) -> dict[str, Any]:
        info = self.k3d.cluster_get(self.name)
        if info is None:
            return {"cluster": self.name, "exists": False, "running": False, "nodes": []}
        return {"cluster": self.name, "exists": True, "running": info.running,
                "nodes": [{"name": n, "role": r, "running": up} for n, r, up in info.nodes],
                "kubeconfig": str(self.ctx.state.kubeconfig)}


RUNTIME_CLASS: dict[str, Any] = {
    "apiVersion": "node.k8s.io/v1",
    "kind": "RuntimeClass",
    "metadata": {"name": "nvidia"},
    "handler": "nvidia",
}


def patch_device_plugin(manifest: str) -> str:
    """The upstream static manifest, with `runtimeClassName: nvidia` (k3s runs GPU containers through
    that handler) and a nodeSelector on the GPU node label (k3d hands the GPU to every node, the lab
    advertises it only on the tainted agent)."""
    docs = [d for d in yaml.safe_load_all(manifest) if d]
    label_key, label_value = k3d_render.GPU_NODE_LABEL.split("=", 1)
    found = False
    for doc in docs:
        if doc.get("kind") == "DaemonSet":
            pod = doc["spec"]["template"]["spec"]
            pod["runtimeClassName"] = "nvidia"
            pod.setdefault("nodeSelector", {})[label_key] = label_value
            found = True
    if not found:
        raise ToolError("the NVIDIA device plugin manifest holds no DaemonSet",
                        hint=f"check {NVIDIA_DEVICE_PLUGIN_URL} (versions.py pins it)")
    return yaml.safe_dump_all(docs, sort_keys=False)




def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out |= _flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    return {prefix: data}


def _diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    a, b = _flatten(old), _flatten(new)
    return [f"{key}: {a.get(key, '(none)')} -> {b.get(key, '(none)')}"
            for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]
