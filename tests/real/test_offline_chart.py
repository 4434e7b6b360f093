"""The observability chart's offline path with the real programs (the chart's own repository cannot be
reached here, so a small chart of the same name and version, packaged by the real helm, stands in):

  * `bundle save` reads a repository index as the real helm writes it, and learns the images from the
    real `helm template` with the flags it passes;
  * `up --offline` uploads the package to the real Gitea's Helm registry (a second upload leaves the
    same single version), and the real Argo CD syncs the profile's Application, as the offline tree names it, from
    there, with the lab's values file from the GitOps repo.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from gitopslab.context import Context
from gitopslab.drivers import helm
from gitopslab.model.config import load_config
from gitopslab.model.observability import MONITORING_DIR, values_path
from gitopslab.model.versions import IMAGES, KUBE_PROMETHEUS_STACK_CHART
from gitopslab.offline import chart, fetch
from gitopslab.offline.archive import bundle_dir
from gitopslab.render.gitops_tree import lab_helm_repo
from gitopslab.stack.cluster_layer import ClusterLayer
from gitopslab.stack.delivery import localize_tree
from gitopslab.stack.gitea import charts
from gitopslab.stack.gitea.rbac import ORG
from gitopslab.stack.lab_http import gitea_as_admin
from tests.real.cluster_fixtures import ClusterLab, GitOps, argocd_api
from tests.real.cluster_harness import RealCluster, program

NAME, VERSION, _ = KUBE_PROMETHEUS_STACK_CHART
PROMETHEUS_CR = """apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: {{ .Release.Name }}}
spec:
  image: "quay.io/prometheus/prometheus:v3.7.3"
"""
OPERATOR = """apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ .Release.Name }}-operator, namespace: {{ .Release.Namespace }}}
spec:
  selector: {matchLabels: {app: op}}
  template:
    metadata: {labels: {app: op}}
    spec:
      containers:
        - name: operator
          image: "{{ .Values.operator.image }}"
          args:
            - --prometheus-config-reloader=quay.io/prometheus-operator/prometheus-config-reloader:v0.86.0
{{- if semverCompare ">=1.35.0-0" .Capabilities.KubeVersion.Version }}
            - --kube-is-new-enough
{{- end }}
"""
# A chart test: Argo CD never runs it (no hook of its own), so its image stays out of the bundle.
TEST_POD = """apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test
  annotations: {"helm.sh/hook": test}
spec:
  containers: [{name: t, image: "docker.io/bats/bats:v1.4.1"}]
"""
# What the chart stands in for in the lab: one object, carrying a value read from the lab's values file.
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata: {name: offline-chart-proof, namespace: {{ .Release.Namespace }}}
data:
  release: {{ .Release.Name }}
  retention: {{ .Values.prometheus.prometheusSpec.retention | quote }}
"""


@pytest.fixture(scope="module")
def helm_bin(real_cluster_programs: None) -> str:
    return str(program("helm"))


def package(helm_bin: str, root: Path, templates: dict[str, str], values: str = "") -> Path:
    """A chart named and versioned as the pin, packaged by the real helm."""
    src = root / NAME
    (src / "templates" / "tests").mkdir(parents=True)
    (src / "Chart.yaml").write_text(f"apiVersion: v2\nname: {NAME}\nversion: {VERSION}\n")
    (src / "values.yaml").write_text(values)
    for name, text in templates.items():
        (src / "templates" / name).write_text(text)
    done = subprocess.run([helm_bin, "package", str(src), "-d", str(root)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return root / chart.chart_file()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on loopback, as a Helm repository is."""
    folder = tmp_path / "repo"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}/charts"
    finally:
        server.shutdown()


def test_bundle_save_reads_a_real_helm_index_and_the_images_of_a_real_rendering(
        helm_bin: str, tmp_path: Path, served: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, url = served
    repo = folder / "charts"
    repo.mkdir()
    built = package(helm_bin, repo, {"operator.yaml": OPERATOR, "prometheus.yaml": PROMETHEUS_CR,
                                     "tests/test-pod.yaml": TEST_POD},
                    values="operator: {image: quay.io/prometheus-operator/prometheus-operator:v0.86.0}\n")
    done = subprocess.run([helm_bin, "repo", "index", str(repo)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

    def get(u: str) -> bytes:
        answer = httpx.get(u, timeout=10, trust_env=False)
        answer.raise_for_status()
        return answer.content

    dest = tmp_path / chart.chart_file()
    chart.download(get, dest, url)
    assert dest.read_bytes() == built.read_bytes()

    values = tmp_path / "lab-values.yaml"  # the lab's values win over the chart's own, as in Argo CD
    values.write_text("operator: {image: registry.example/operator:lab}\n")
    rendered = helm.template(dest, chart.RELEASE, chart.NAMESPACE, values, chart.kube_version(IMAGES["k3s"]),
                             helm=helm_bin)
    assert "--kube-is-new-enough" in rendered  # --kube-version reached the chart's Capabilities
    assert chart.images(rendered) == ["registry.example/operator:lab", "quay.io/prometheus/prometheus:v3.7.3",
                                      "quay.io/prometheus-operator/prometheus-config-reloader:v0.86.0"]
    assert "namespace: monitoring" in rendered

    # bundle save's own call: the lab's values file, the k3s pin's Kubernetes, the Application's release
    monkeypatch.setenv("PATH", f"{Path(helm_bin).parent}:{os.environ['PATH']}")
    ctx = Context.from_config(load_config(None, {}, {"name": "chartsave", "observability": True}))
    assert fetch.chart_image_list(ctx, dest).split("\n") == [
        "quay.io/prometheus-operator/prometheus-operator:v0.86.0", "quay.io/prometheus/prometheus:v3.7.3",
        "quay.io/prometheus-operator/prometheus-config-reloader:v0.86.0", ""]


def test_offline_argocd_syncs_the_profiles_chart_from_the_labs_gitea(
        helm_bin: str, argocd_up: ClusterLayer, cluster: RealCluster, cluster_lab: ClusterLab, gitops: GitOps,
        tmp_path: Path) -> None:
    ctx = cluster_lab.ctx
    offline = Context(cfg=ctx.cfg.model_copy(update={"offline": True, "observability": True}), topo=ctx.topo,
                      state=ctx.state)
    built = package(helm_bin, tmp_path, {"configmap.yaml": CONFIGMAP})
    bundle_dir(ctx).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, bundle_dir(ctx) / chart.chart_file())  # as `bundle load` leaves it
    charts.upload(offline)
    charts.upload(offline)  # a resumed `up` uploads it again: Gitea replaces the version in place
    index = yaml.safe_load(httpx.get(lab_helm_repo(ctx.topo) + "/index.yaml", timeout=10, trust_env=False).text)
    (entry,) = index["entries"][NAME]  # read without a login, as Argo CD does
    assert entry["version"] == VERSION
    served = httpx.get(entry["urls"][0], timeout=10, trust_env=False)
    assert served.content == built.read_bytes()

    app_file = gitops.tree / MONITORING_DIR / "kube-prometheus-stack.yaml"
    with tenancy_files_writable(offline):
        localize_tree(offline, gitops.tree)  # what `up --offline` seeds: the chart read from the lab's Gitea
        gitops.commit("offline: the observability chart from the lab's Gitea")
    try:
        assert lab_helm_repo(ctx.topo) in app_file.read_text()
        with argocd_api(cluster, cluster_lab) as argocd:
            argocd.refresh("platform-projects")  # what Gitea's push hook does in a lab
        _wait_project_allows(cluster, lab_helm_repo(ctx.topo))
        cluster.kubectl("apply", "-n", "argocd", "-f", str(app_file))
        app = _wait_synced(cluster, NAME)
        assert app["spec"]["sources"][0]["repoURL"] == lab_helm_repo(ctx.topo)
        proof = json.loads(cluster.kubectl("get", "configmap", "offline-chart-proof", "-n", chart.NAMESPACE,
                                           "-o", "json").stdout)
        retention = yaml.safe_load(values_path().read_text())["prometheus"]["prometheusSpec"]["retention"]
        assert proof["data"] == {"release": chart.RELEASE, "retention": retention}  # the lab's $values were read
    finally:
        cluster.remove_applications(NAME)
        with tenancy_files_writable(offline):
            gitops.git("revert", "--no-edit", "HEAD")
            gitops.commit("back online")
        with argocd_api(cluster, cluster_lab) as argocd:
            argocd.refresh("platform-projects")
    assert lab_helm_repo(ctx.topo) not in app_file.read_text()  # the tests that follow see the online tree


@contextlib.contextmanager
def tenancy_files_writable(ctx: Context) -> Iterator[None]:
    """main's protected files (projects/, base/platform/) writable for one push: an offline lab is seeded
    with this tree; this lab was seeded online, and the protection (rightly) refuses the change."""
    with gitea_as_admin(ctx) as api:
        before = api.get_branch_protection(ORG, "gitops", "main")
        assert before is not None and before["protected_file_patterns"]
        api.edit_branch_protection(ORG, "gitops", "main", {"protected_file_patterns": ""})
        try:
            yield
        finally:
            api.edit_branch_protection(ORG, "gitops", "main",
                                       {"protected_file_patterns": before["protected_file_patterns"]})


def _wait_project_allows(cluster: RealCluster, repo: str, timeout: float = 120) -> None:
    deadline, seen = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        seen = cluster.kubectl("get", "appproject", "platform", "-n", "argocd", "-o",
                               "jsonpath={.spec.sourceRepos}").stdout
        if repo in seen:
            return
        time.sleep(1)
    raise AssertionError(f"the platform project did not come to allow {repo} within {timeout:.0f} s; "
                         f"its sourceRepos: {seen}")


def _wait_synced(cluster: RealCluster, name: str, timeout: float = 180) -> dict[str, object]:
    deadline, status = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        app = json.loads(cluster.kubectl("get", "application", name, "-n", "argocd", "-o", "json").stdout)
        status = app.get("status") or {}
        if (status.get("sync") or {}).get("status") == "Synced" and \
                (status.get("operationState") or {}).get("phase") == "Succeeded":
            return dict(app)
        time.sleep(1)
    raise AssertionError(f"{name} did not sync within {timeout:.0f} s; last status {json.dumps(status)[:1500]}")
