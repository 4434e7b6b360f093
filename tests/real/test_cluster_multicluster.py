"""Issue 25, the real two-cluster case: a second real control plane (the same harness, one more, with its
kwok node) stands for the multicluster profile's production cluster; the session's one real Argo CD manages
it through the cluster Secret the project itself creates (prd.access on the second cluster, then
argocd.cluster-prd on the first). A prd project's Application syncs into the second cluster and not the
first; the same project's attempt on a foreign namespace is refused by the real Argo CD; Argo CD's
ServiceAccount on the second cluster can do nothing outside the prd namespaces.

Only one extra control plane (no second Argo CD, no second Gitea): the session's fixtures are reused."""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from gitopslab.conductor import runner as orchestrator
from gitopslab.context import Context
from gitopslab.drivers.k3d import context_name
from gitopslab.model.topology import build
from gitopslab.render import multicluster
from gitopslab.render.argocd import gitops_repo_url
from gitopslab.stack.cluster_layer import ClusterDeps, ClusterLayer
from gitopslab.stack.prd_cluster import PrdClusterLayer
from tests.real.cluster_fixtures import ClusterLab, GitOps
from tests.real.cluster_harness import HarnessError, RealCluster, free_port, kubectl_binary
from tests.real.test_cluster_tenancy import refusal

PROJECT = "mc-app-prd"
APP = "mc-app-prd"
FOREIGN = "mc-app-prd-foreign"
PATH = "mc-cases/app-prd"
MARK = "mc-marker"


@pytest.fixture(scope="module")
def two_cluster_ctx(cluster_lab: ClusterLab) -> Context:
    """The session's lab with the multicluster profile on: the production API under the name `localhost`
    (Go's resolver on the host, where the real Argo CD runs, does not map *.localhost) on a free port."""
    cfg = cluster_lab.ctx.cfg
    cfg = cfg.model_copy(update={
        "multicluster": True,
        "ports": cfg.ports.model_copy(update={"kube_api_prd": free_port(), "hello_api_prd": free_port()}),
        "hostnames": cfg.hostnames.model_copy(update={"kube_api_prd": "localhost"})})
    return Context(cfg=cfg, topo=build(cfg), state=cluster_lab.ctx.state)


@pytest.fixture(scope="module")
def prd_cluster(cluster: RealCluster, two_cluster_ctx: Context, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[RealCluster]:
    """The second control plane with its kwok node, on the production API port; its kubeconfig where the
    project's PrdClusterLayer reads it (the state's kubeconfig-prd)."""
    ctx = two_cluster_ctx
    real = RealCluster(tmp_path_factory.mktemp("real-cluster-prd"), context=context_name(ctx.topo.prd_cluster_name),
                       ports={"apiserver": ctx.topo.prd_kube_api_port}, san_names=(ctx.topo.prd_api_hostname,))
    try:
        real.start(argocd=False)
    except HarnessError as exc:
        pytest.fail(str(exc))
    try:
        shutil.copy(real.kubeconfig, ctx.state.kubeconfig_prd)
        yield real
    finally:
        real.close()
        ctx.state.kubeconfig_prd.unlink(missing_ok=True)


def _project(ctx: Context) -> dict[str, Any]:
    """The shipped app-prd project as a two-cluster lab pushes it (render/multicluster.tree_swaps), renamed so
    the root app's own app-prd project is left as it is."""
    from gitopslab.lint import shipped_gitops_dir
    from gitopslab.render.gitops_tree import localizations, localize

    text = (shipped_gitops_dir() / "projects" / "app-prd.yaml").read_text()
    text = localize(localize(text, multicluster.tree_swaps(ctx.topo)["projects/app-prd.yaml"]),
                    localizations(ctx.topo))
    doc = yaml.safe_load(text)
    doc["metadata"]["name"] = PROJECT
    doc["spec"]["roles"] = []
    return dict(doc)


def _app(ctx: Context, name: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": {"project": PROJECT, "destination": {"name": multicluster.PRD_CLUSTER, "namespace": namespace},
                     "source": {"repoURL": gitops_repo_url(ctx.topo), "targetRevision": "main", "path": PATH},
                     "syncPolicy": {"automated": {}}}}


def _configmap(real: RealCluster, namespace: str) -> bool:
    return real.kubectl("get", "configmap", MARK, "-n", namespace, check=False).returncode == 0


def _wait_for(what: str, probe: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(1)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def test_prd_syncs_into_the_second_cluster_only(argocd_up: ClusterLayer, cluster: RealCluster,
                                                prd_cluster: RealCluster, two_cluster_ctx: Context,
                                                gitops: GitOps) -> None:
    ctx = two_cluster_ctx
    deps = ClusterDeps(kubectl_bin=kubectl_binary())
    dev, prd = ClusterLayer(ctx, deps), PrdClusterLayer(ctx, deps)
    steps = {s.name: s for s in prd.cluster_steps()}
    # The project's own steps: Argo CD's access on the second cluster (the real token controller fills the
    # token), then the cluster Secret in the first cluster's argocd namespace.
    report = orchestrator.run(ctx, [steps["prd.access"], prd.registration_step(dev)])
    assert [o.action for o in report.outcomes] == ["applied", "applied"]
    assert [o.action for o in orchestrator.run(ctx, [steps["prd.access"], prd.registration_step(dev)]).outcomes] \
        == ["skipped", "skipped"]
    # What Argo CD will use: the Secret's server by name, its CA and its token, verified TLS.
    secret = json.loads(cluster.kubectl("get", "secret", multicluster.CLUSTER_SECRET, "-n", "argocd", "-o",
                                        "json").stdout)
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    conf = json.loads(data["config"])
    tls = ssl.create_default_context(cadata=base64.b64decode(conf["tlsClientConfig"]["caData"]).decode())
    req = urllib.request.Request(f"{data['server']}/api/v1/namespaces/app-prd/configmaps",
                                 headers={"Authorization": f"Bearer {conf['bearerToken']}"})
    with urllib.request.urlopen(req, timeout=10, context=tls) as resp:  # noqa: S310 (loopback only)
        assert json.loads(resp.read())["kind"] == "ConfigMapList"
    sa = f"system:serviceaccount:{multicluster.MANAGER_NAMESPACE}:{multicluster.MANAGER}"
    can = lambda *a: prd_cluster.kubectl("auth", "can-i", *a, "--as", sa, check=False).stdout.strip()  # noqa: E731
    assert can("create", "deployments", "-n", "app-prd") == "yes"
    assert can("list", "nodes") == "no" and can("create", "namespaces") == "no"
    assert can("get", "secrets", "-n", "kube-system") == "no"

    (gitops.tree / PATH).mkdir(parents=True, exist_ok=True)
    (gitops.tree / PATH / "configmap.yaml").write_text(yaml.safe_dump(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": MARK}, "data": {"cluster": "prd"}}))
    gitops.commit("multicluster case: one ConfigMap for the prd cluster")
    cluster.kubectl("create", "namespace", "app-prd", check=False)  # the same namespace exists on dev too
    try:
        cluster.kubectl("apply", "-f", "-", input=json.dumps(_project(ctx)))
        cluster.kubectl("apply", "-f", "-", input=json.dumps(_app(ctx, APP, "app-prd")))
        assert refusal(cluster, APP, timeout=180) == ""  # Synced, through the cluster Secret
        _wait_for("the ConfigMap in the prd cluster's app-prd", lambda: _configmap(prd_cluster, "app-prd"))
        assert not _configmap(cluster, "app-prd")  # and not in the first cluster
        # The same project on a namespace of the prd cluster it does not list: refused by Argo CD itself.
        cluster.kubectl("apply", "-f", "-", input=json.dumps(_app(ctx, FOREIGN, "ml-prd")))
        refused = refusal(cluster, FOREIGN)
        assert refused.startswith("InvalidSpecError") and "ml-prd" in refused, refused
        assert not _configmap(prd_cluster, "ml-prd")
    finally:
        cluster.remove_applications(FOREIGN, APP)
        cluster.kubectl("delete", "appproject", PROJECT, "-n", "argocd", "--ignore-not-found", check=False)
        cluster.kubectl("delete", "secret", multicluster.CLUSTER_SECRET, "-n", "argocd", "--ignore-not-found",
                        check=False)
        shutil.rmtree(gitops.tree / "mc-cases", ignore_errors=True)
        gitops.commit("multicluster case removed")
