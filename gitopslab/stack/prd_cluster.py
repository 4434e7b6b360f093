"""The multicluster profile's production cluster: a second, small k3d cluster on the lab network, made,
stopped, removed and reported exactly as the first (it IS a `ClusterLayer`, with its own name, config,
kubeconfig and stored settings), plus what makes it Argo CD's:

    prd.node-image / prd.create / prd.names   as the first cluster's steps, for `<name>-prd`
    prd.access      the prd namespaces, ServiceAccount argocd-manager, its token, namespaced rights only
                    (render/multicluster.py says why no cluster-admin)
    argocd.cluster-prd   (after Argo CD is installed) the cluster Secret in the first cluster's `argocd`
                    namespace, built from that token and the prd cluster's CA, applied through stdin

Its steps form a lane of their own in `up` (conductor/plan.py): it is created beside the first cluster.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from gitopslab import wait
from gitopslab.errors import ToolError
from gitopslab.model.topology import Cluster, prd_cluster_name
from gitopslab.render import argocd as argocd_render
from gitopslab.render import k3d as k3d_render
from gitopslab.render import multicluster
from gitopslab.stack.cluster_layer import ClusterLayer
from gitopslab.stack.step import FuncStep, Step


class PrdClusterLayer(ClusterLayer):
    """The production cluster; `dev` is the lab's first cluster layer (where Argo CD runs)."""

    settings_key = "cluster_prd"
    role: Cluster = "prd"

    @property
    def name(self) -> str:
        # Also without the profile in today's settings: down and destroy find the lab's production cluster
        # (its label says whose it is) even when the person leaves `--profile multicluster` off.
        return self.ctx.topo.prd_cluster_name or prd_cluster_name(self.ctx.topo.lab)

    @property
    def gpu(self) -> bool:
        return False  # the GPU node, where there is one, is the first cluster's

    @property
    def config_file(self) -> Path:
        return self.ctx.state.dir / "k3d" / "cluster-prd.yaml"

    @property
    def kubeconfig(self) -> Path:
        return self.ctx.state.kubeconfig_prd

    def render_config(self) -> str:
        return k3d_render.render_prd_config(self.ctx.cfg, self.ctx.topo)

    def cluster_steps(self) -> list[Step]:
        steps: list[Step] = []
        if not self.ctx.cfg.offline:
            steps.append(FuncStep("prd.node-image", f"k3s node image {self.node_image()} (production cluster)",
                                  lambda c: self._image_present(), lambda c: self._pull_node_image()))
        steps += [
            FuncStep("prd.create", f"k3d cluster {self.name} for production (one server, lab network)",
                     lambda c: self._cluster_ready(), lambda c: self._ensure_cluster()),
            FuncStep("prd.names", "lab names for the production cluster's pods (coredns-custom)",
                     lambda c: self._names_ready(), lambda c: self._ensure_names()),
            FuncStep("prd.access", "Argo CD's ServiceAccount on the production cluster (prd namespaces only)",
                     lambda c: self._access_ready(), lambda c: self._ensure_access()),
        ]
        return steps

    # access -------------------------------------------------------------------------------------
    def _access_ready(self) -> bool:
        kube = self.kubectl()
        return all(kube.exists(o["kind"].lower(), o["metadata"]["name"], o["metadata"].get("namespace"))
                   for o in multicluster.prd_access(self.ctx.topo)) and bool(self.token())

    def _ensure_access(self) -> None:
        self.kubectl().apply(stdin=multicluster.dump_all(multicluster.prd_access(self.ctx.topo)))

        def probe() -> tuple[bool, str]:
            return (True, "filled") if self.token() else (False, "the token Secret has no token yet")

        wait.until(probe, component="prd cluster",
                   awaited=f"the token of ServiceAccount {multicluster.MANAGER} (filled by the control plane)",
                   timeout=self.ctx.cfg.timeouts.service_ready, interval=self.ctx.cfg.timeouts.poll_interval,
                   next_command=(f"kubectl --kubeconfig {self.kubeconfig} -n {multicluster.MANAGER_NAMESPACE} "
                                 f"get secret {multicluster.MANAGER_TOKEN} -o yaml; then gitopslab up"),
                   clock=self.deps.clock, sleep=self.deps.sleep)

    def token(self) -> tuple[str, str] | None:
        """(bearer token, CA base64) of Argo CD's ServiceAccount, once the control plane filled them."""
        secret = self.kubectl().exists("secret", multicluster.MANAGER_TOKEN, multicluster.MANAGER_NAMESPACE)
        data = (secret or {}).get("data") or {}
        if not data.get("token") or not data.get("ca.crt"):
            return None
        return base64.b64decode(data["token"]).decode(), str(data["ca.crt"])

    # --- registration in the first cluster's Argo CD ---------------------------------------------
    def registration_step(self, dev: ClusterLayer) -> Step:
        return FuncStep("argocd.cluster-prd", f"register {self.name} in Argo CD as cluster "
                        f"'{multicluster.PRD_CLUSTER}' (ServiceAccount token, prd namespaces)",
                        lambda c: self._registered(dev), lambda c: self._register(dev))

    def _wanted_secret(self) -> dict[str, Any]:
        got = self.token()
        if got is None:
            raise ToolError(f"the production cluster's ServiceAccount {multicluster.MANAGER} has no token",
                            hint="run `gitopslab up` again (its prd.access step makes it)")
        return multicluster.cluster_secret(self.ctx.topo, *got)

    def _registered(self, dev: ClusterLayer) -> bool:
        live = dev.kubectl().exists("secret", multicluster.CLUSTER_SECRET, "argocd")
        if live is None or self.token() is None:
            return False
        want = argocd_render.with_data(self._wanted_secret())["data"]
        return all(((live.get("data") or {}).get(k)) == v for k, v in want.items())

    def _register(self, dev: ClusterLayer) -> None:
        # Through stdin, as data: the token never reaches argv, a file or git.
        secret = argocd_render.with_data(self._wanted_secret())
        dev.kubectl().apply(stdin=yaml.safe_dump(secret, sort_keys=False))

    def status(self) -> dict[str, Any]:
        out = super().status()
        if out.get("exists"):
            out["kubeconfig"] = str(self.kubeconfig)
        return out

    def remove(self) -> bool:
        """`destroy`: the production cluster (only with the lab's label) and its files in the state dir."""
        existed = self.owned() is not None
        if existed:
            self.k3d.cluster_delete(self.name)
        self.kubeconfig.unlink(missing_ok=True)
        self.config_file.unlink(missing_ok=True)
        stored = dict(self.ctx.state.stored_settings() or {})
        if stored.pop(self.settings_key, None) is not None:
            self.ctx.state.store_settings(stored)
        return existed


def prd_layer(dev: ClusterLayer) -> PrdClusterLayer | None:
    """The production cluster beside `dev` (same context and deps), or None without the profile."""
    if not dev.ctx.topo.prd_cluster_name:
        return None
    return PrdClusterLayer(dev.ctx, dev.deps)


def lab_prd_cluster(dev: ClusterLayer) -> PrdClusterLayer | None:
    """For down, destroy and status: the lab's production cluster where one exists and carries the
    lab's label, whatever today's settings say; None otherwise."""
    prd = PrdClusterLayer(dev.ctx, dev.deps)
    return prd if prd.owned() is not None else None
