"""Issue 27: the kserve profile's charts offline, with the real programs. KServe's three charts are the
release's own (charts/ of the kserve v0.20.0 source archive, packaged by the real helm; upstream publishes
these packages at ghcr.io/kserve/charts, which cannot be reached here); cert-manager's chart cannot be
reached either, so a chart of its name and version stands in.

  * `bundle save` pulls each KServe chart over the OCI distribution API from the lab's real registry, where
    the real helm pushed it (`helm push`, as upstream publishes), its digest checked;
  * `up --offline` uploads the four packages to the real Gitea's Helm registry, which lists KServe's
    `v0.20.0` versions as the Applications' targetRevision names them;
  * the real Argo CD syncs the offline tree's kserve-crd Application from that registry: KServe's CRDs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gitopslab.context import Context
from gitopslab.model.kserve import charts as kserve_charts
from gitopslab.model.versions import CERT_MANAGER_CHART, KSERVE_CRD_CHART
from gitopslab.offline import chart, oci_chart
from gitopslab.offline.archive import bundle_dir
from gitopslab.render.gitops_tree import lab_helm_repo
from gitopslab.stack.cluster_layer import ClusterLayer
from gitopslab.stack.delivery import localize_tree
from gitopslab.stack.gitea import charts
from tests.real import kserve_controller as kc
from tests.real.cluster_fixtures import ClusterLab, GitOps, argocd_api
from tests.real.cluster_harness import RealCluster, program
from tests.real.test_offline_chart import _wait_project_allows, _wait_synced, tenancy_files_writable

GONE = "trainedmodels.serving.kserve.io"  # a CRD of the chart that nothing else in the session uses


def _helm(*args: str) -> str:
    done = subprocess.run([str(program("helm")), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"helm {' '.join(args[:2])}: {done.stderr}"
    return done.stdout + done.stderr


def _packages(root: Path) -> dict[str, Path]:
    """package file -> path: KServe's three from the release's charts, cert-manager's stand-in."""
    out = {}
    for name, version, _ in kserve_charts():
        if name == CERT_MANAGER_CHART[0]:
            src = root / "src" / name
            (src / "templates").mkdir(parents=True)
            (src / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
        else:
            src = kc.source() / "charts" / name
        _helm("package", str(src), "-d", str(root))
        out[f"{name}-{version}.tgz"] = root / f"{name}-{version}.tgz"
        assert out[f"{name}-{version}.tgz"].is_file()
    return out


@pytest.fixture(scope="module")
def packages(real_cluster_programs: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _packages(tmp_path_factory.mktemp("kserve-charts"))


def test_bundle_save_pulls_kserves_oci_charts_from_a_real_registry(packages: dict[str, Path], gitops: GitOps,
                                                                   cluster_lab: ClusterLab, tmp_path: Path) -> None:
    registry = f"http://127.0.0.1:{cluster_lab.ctx.topo.service('registry').port}"
    oci = [(name, version) for name, version, repo in kserve_charts() if chart.is_oci(repo)]
    assert len(oci) == 3  # KServe's CRD, resources and runtimes charts
    for name, version in oci:
        built = packages[f"{name}-{version}.tgz"]
        _helm("push", str(built), f"oci://{registry.removeprefix('http://')}/kserve/charts", "--plain-http")
        dest = tmp_path / built.name
        with httpx.Client(timeout=30, trust_env=False) as client:
            oci_chart.pull(client, f"{registry}/kserve/charts", name, version, dest)
        assert dest.read_bytes() == built.read_bytes()


def test_offline_argocd_syncs_kserves_crd_chart_from_the_labs_gitea(
        packages: dict[str, Path], argocd_up: ClusterLayer, cluster: RealCluster, cluster_lab: ClusterLab,
        gitops: GitOps) -> None:
    ctx = cluster_lab.ctx
    offline = Context(cfg=ctx.cfg.model_copy(update={"offline": True, "kserve": True}), topo=ctx.topo, state=ctx.state)
    bundle_dir(ctx).mkdir(parents=True, exist_ok=True)
    for name, path in packages.items():
        shutil.copyfile(path, bundle_dir(ctx) / name)  # as `bundle load` leaves them
    charts.upload(offline)
    index = yaml.safe_load(httpx.get(lab_helm_repo(ctx.topo) + "/index.yaml", timeout=10, trust_env=False).text)
    for name, version, _ in kserve_charts():  # read without a login, as Argo CD does
        (entry,) = index["entries"][name]
        assert entry["version"] == version
        served = httpx.get(entry["urls"][0], timeout=30, trust_env=False)
        assert served.content == packages[f"{name}-{version}.tgz"].read_bytes()

    app_file = gitops.tree / "base" / "platform" / "kserve" / "kserve-crd.yaml"
    with tenancy_files_writable(offline):
        localize_tree(offline, gitops.tree)  # what `up --offline` seeds
        gitops.commit("offline: the kserve profile's charts from the lab's Gitea")
    try:
        assert f"repoURL: {lab_helm_repo(ctx.topo)}" in app_file.read_text()
        with argocd_api(cluster, cluster_lab) as argocd:
            argocd.refresh("platform-projects")
        _wait_project_allows(cluster, lab_helm_repo(ctx.topo))
        # One of the chart's CRDs absent (an earlier module may have applied them all): the sync must create it.
        cluster.kubectl("delete", "crd", GONE, "--ignore-not-found", "--wait=true")
        cluster.kubectl("apply", "-f", str(app_file))
        app = _wait_synced(cluster, KSERVE_CRD_CHART[0], timeout=240)
        status: dict[str, Any] = app["status"]  # type: ignore[assignment]
        assert status["sync"]["comparedTo"]["source"]["repoURL"] == lab_helm_repo(ctx.topo)
        assert status["sync"]["revision"] == KSERVE_CRD_CHART[1]
        crds = {r["name"] for r in status["resources"] if r["kind"] == "CustomResourceDefinition"}
        assert {"inferenceservices.serving.kserve.io", GONE} <= crds
        live = json.loads(cluster.kubectl("get", "crd", GONE, "-o", "json").stdout)
        assert any(c["type"] == "Established" and c["status"] == "True" for c in live["status"]["conditions"])
    finally:
        cluster.remove_applications(KSERVE_CRD_CHART[0])
        with tenancy_files_writable(offline):
            gitops.git("revert", "--no-edit", "HEAD")
            gitops.commit("back online")
        with argocd_api(cluster, cluster_lab) as argocd:
            argocd.refresh("platform-projects")
    assert lab_helm_repo(ctx.topo) not in app_file.read_text()
