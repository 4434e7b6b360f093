"""The observability chart in the bundle: found through its repository's index and checked against the
digest listed there; its images read from the rendering; listed, checked before `up --offline` changes
anything, carried by `--files-from`; offline, the GitOps tree reads it from the lab's Gitea.
(The real helm and the real Gitea and Argo CD prove the rest: tests/real/test_offline_chart.py.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from gitopslab.context import Context
from gitopslab.errors import LabError
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.model.versions import IMAGES, KUBE_PROMETHEUS_STACK_CHART
from gitopslab.offline import chart, fetch, ready
from gitopslab.offline.archive import bundle_dir
from gitopslab.offline.needs import lab_needs
from gitopslab.state import LabState
from tests.support.loaded_bundle import write_loaded_bundle
from tests.support.preflight import stand_in_tools

NAME, VERSION, REPO = KUBE_PROMETHEUS_STACK_CHART
PACKAGE = b"a chart package's bytes"


def _ctx(tmp_path: Path, **settings: object) -> Context:
    cfg = load_config(None, environ={}, flags={"name": "chartlab", **settings})
    return Context(cfg=cfg, topo=build(cfg), state=LabState(cfg.name, tmp_path / "state"))


def _repo(url: str, digest: str) -> dict[str, bytes]:
    index = {"apiVersion": "v1", "entries": {NAME: [
        {"name": NAME, "version": "1.0.0", "urls": [f"{NAME}-1.0.0.tgz"], "digest": "0" * 64},
        {"name": NAME, "version": VERSION, "urls": [f"charts/{NAME}-{VERSION}.tgz"], "digest": digest},
    ]}}
    return {f"{url}/index.yaml": yaml.safe_dump(index).encode(), f"{url}/charts/{NAME}-{VERSION}.tgz": PACKAGE}


def _getter(served: dict[str, bytes], asked: list[str]):  # type: ignore[no-untyped-def]
    def get(url: str) -> bytes:
        asked.append(url)
        return served[url]
    return get


def test_the_pinned_version_is_downloaded_through_the_index_and_its_digest_checked(tmp_path: Path) -> None:
    asked: list[str] = []
    digest = hashlib.sha256(PACKAGE).hexdigest()
    got = chart.download(_getter(_repo("http://charts.test/x", digest), asked), tmp_path / "c.tgz",
                         "http://charts.test/x")
    assert got == digest and (tmp_path / "c.tgz").read_bytes() == PACKAGE
    # a relative chart URL is read against the repository, not against index.yaml's own folder's parent
    assert asked == ["http://charts.test/x/index.yaml", f"http://charts.test/x/charts/{NAME}-{VERSION}.tgz"]


def test_a_package_that_differs_from_the_index_is_refused_and_not_written(tmp_path: Path) -> None:
    with pytest.raises(LabError) as caught:
        chart.download(_getter(_repo("http://c.test", "f" * 64), []), tmp_path / "c.tgz", "http://c.test")
    assert "f" * 64 in caught.value.message and hashlib.sha256(PACKAGE).hexdigest() in caught.value.message
    assert not (tmp_path / "c.tgz").exists()


def test_a_repository_without_the_pinned_version_is_named(tmp_path: Path) -> None:
    served = {"http://c.test/index.yaml": b"apiVersion: v1\nentries: {}\n"}
    with pytest.raises(LabError) as caught:
        chart.download(_getter(served, []), tmp_path / "c.tgz", "http://c.test")
    assert f"does not list {NAME} {VERSION}" in caught.value.message and "http://c.test/" in caught.value.message


def test_the_images_are_every_container_the_crs_images_and_the_operators_reloader() -> None:
    rendered = """
kind: Deployment
spec:
  template:
    spec:
      initContainers: [{name: init, image: "docker.io/library/busybox:1.31.1"}]
      containers:
        - name: operator
          image: quay.io/prometheus-operator/prometheus-operator:v0.86.0
          args:
            - --kubelet-service=kube-system/kubelet
            - --prometheus-config-reloader=quay.io/prometheus-operator/prometheus-config-reloader:v0.86.0
            - --prometheus-default-base-image=quay.io/prometheus/prometheus
---
kind: Prometheus
spec:
  image: quay.io/prometheus/prometheus:v3.7.3
---
kind: ConfigMap
data: {values: "image: {repository: x}"}
"""
    assert chart.images(rendered) == [
        "docker.io/library/busybox:1.31.1", "quay.io/prometheus-operator/prometheus-operator:v0.86.0",
        "quay.io/prometheus/prometheus:v3.7.3", "quay.io/prometheus-operator/prometheus-config-reloader:v0.86.0"]


def test_the_kube_version_is_the_k3s_pins() -> None:
    assert chart.kube_version(IMAGES["k3s"]) == "v1.35.5"
    assert IMAGES["k3s"].endswith(":v1.35.5-k3s1")


def test_an_observability_lab_needs_the_chart_and_the_images_its_rendering_runs(tmp_path: Path) -> None:
    core = lab_needs(_ctx(tmp_path))
    assert chart.chart_file() not in core.files and chart.IMAGES_FILE not in core.files
    files = tmp_path / "files"
    files.mkdir()
    (files / chart.IMAGES_FILE).write_text("quay.io/prometheus/prometheus:v3.7.3\nquay.io/x/y:1\n")
    needs = lab_needs(_ctx(tmp_path, observability=True), files)
    assert chart.chart_file() == f"{NAME}-{VERSION}.tgz"
    # the package comes before the list: bundle save renders the package it has just downloaded
    assert needs.files.index(chart.chart_file()) < needs.files.index(chart.IMAGES_FILE)
    assert needs.node["quay.io/prometheus/prometheus:v3.7.3"] == ["kube-prometheus-stack chart"]
    assert "quay.io/x/y:1" in needs.images  # node images are saved from the engine too


class _Engine:
    class image:  # noqa: N801 - mirrors python-on-whales' docker.image
        @staticmethod
        def exists(ref: str) -> bool:
            return True


def test_up_offline_names_the_missing_chart_and_tools_before_anything_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in_tools(tmp_path, monkeypatch, "docker-compose", "k3d", "kubectl")
    ctx = _ctx(tmp_path, observability=True, offline=True)
    folder = bundle_dir(ctx)
    write_loaded_bundle(folder, lab_needs(ctx).files)
    assert ready.missing(ctx, _Engine()) == []
    (folder / chart.chart_file()).unlink()
    assert ready.missing(ctx, _Engine()) == [f"file {chart.chart_file()} (in {folder})"]
    with pytest.raises(LabError) as caught:
        ready.require_ready(ctx, _Engine())
    assert "nothing was changed" in caught.value.message and "bundle load" in (caught.value.hint or "")

    (tmp_path / "tools-bin" / "k3d").unlink()  # preflight would offer the download: offline it cannot
    assert ready.missing(ctx, _Engine())[1:] == [
        "tool k3d: k3d is not installed (install it while online: gitopslab tools install k3d   "
        "(or https://k3d.io/#installation))"]
    assert ready.missing(ctx, _Engine(), only_compose=True) == []  # the compose side needs no k3d


def test_files_from_carries_the_chart_and_its_image_list(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, observability=True)
    source = tmp_path / "from"
    source.mkdir()
    for name in lab_needs(ctx).files:
        (source / name).write_bytes(f"{name}\n".encode())
    with fetch.files_for(ctx, source=source) as files:
        for name in (chart.chart_file(), chart.IMAGES_FILE):
            assert files.paths[name].read_bytes() == f"{name}\n".encode()
    (source / chart.IMAGES_FILE).unlink()
    with pytest.raises(LabError) as caught, fetch.files_for(ctx, source=source):
        pass
    assert chart.IMAGES_FILE in caught.value.message and "bundle save" in (caught.value.hint or "")


def test_a_missing_helm_is_named_with_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gitopslab.drivers import helm

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LabError) as caught:
        helm.template(tmp_path / "c.tgz", "r", "ns", tmp_path / "v.yaml", "v1.35.5")
    assert "`helm` is not installed" in caught.value.message and "helm.sh" in (caught.value.hint or "")


@pytest.mark.parametrize("offline", [False, True])
def test_offline_the_tree_reads_the_chart_from_the_labs_gitea(tmp_path: Path, offline: bool) -> None:
    from gitopslab.lint import lint
    from gitopslab.lint.policy import default_allowed_repos
    from gitopslab.stack.delivery import prepare_workspace, workspace

    ctx = _ctx(tmp_path, observability=True, offline=offline, ports={"gitea": 3300})
    prepare_workspace(ctx)
    tree = workspace(ctx) / "gitops"
    app = yaml.safe_load((tree / "base/platform/monitoring/kube-prometheus-stack.yaml").read_text())
    project = yaml.safe_load((tree / "projects/platform.yaml").read_text())
    lab_repo = "http://gitea.localhost:3300/api/packages/platform/helm"
    expected = lab_repo if offline else REPO
    assert app["spec"]["sources"][0]["repoURL"] == expected and app["spec"]["sources"][0]["chart"] == NAME
    assert expected in project["spec"]["sourceRepos"]
    assert (REPO in project["spec"]["sourceRepos"]) is not offline
    assert lint(tree, allowed_repos=default_allowed_repos(ctx.cfg)).exit_code == 0


@pytest.mark.parametrize("step, what", [("charts", "the observability profile's chart"),
                                         ("wheels", "the pipelines' Python packages")])
def test_an_upload_step_names_what_the_loaded_bundle_lacks(tmp_path: Path, step: str, what: str) -> None:
    """Before it reaches Gitea: the step says which part of the bundle is missing and how to load one."""
    import importlib

    module = importlib.import_module(f"gitopslab.stack.gitea.{step}")
    ctx = _ctx(tmp_path, observability=True, offline=True)
    with pytest.raises(LabError) as caught:
        module.upload(ctx)
    assert caught.value.message.startswith(f"offline: {what} is not in the loaded bundle")
    assert str(bundle_dir(ctx)) in caught.value.message and "bundle load" in (caught.value.hint or "")
