"""Issue 27: `bundle save` with the kserve profile carries its four charts (cert-manager's from its HTTP Helm
repository, KServe's three from their OCI registry) so `up --offline` can install them: the packages are
listed, pulled over the OCI distribution API with their digest checked, uploaded to the lab's Gitea, and the
offline tree's Applications read them from there. (The real registry, helm and Gitea: tests/real/test_offline_kserve_charts.py.)"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
import yaml

from gitopslab.context import Context
from gitopslab.errors import LabError
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.model.versions import (
    CERT_MANAGER_CHART,
    KSERVE_CRD_CHART,
    KSERVE_RESOURCES_CHART,
    KSERVE_RUNTIME_CONFIGS_CHART,
)
from gitopslab.offline import chart, fetch, oci_chart
from gitopslab.offline.archive import bundle_dir
from gitopslab.offline.needs import lab_needs
from gitopslab.state import LabState

PACKAGES = [f"{name}-{version}.tgz" for name, version, _ in
            (CERT_MANAGER_CHART, KSERVE_CRD_CHART, KSERVE_RESOURCES_CHART, KSERVE_RUNTIME_CONFIGS_CHART)]
CHART = b"a chart package's bytes"
DIGEST = "sha256:" + hashlib.sha256(CHART).hexdigest()


def _ctx(tmp_path: Path, **settings: object) -> Context:
    cfg = load_config(None, environ={}, flags={"name": "kchartlab", **settings})
    return Context(cfg=cfg, topo=build(cfg), state=LabState(cfg.name, tmp_path / "state"))


def test_a_kserve_bundle_lists_its_four_chart_packages(tmp_path: Path) -> None:
    assert chart.kserve_packages(_ctx(tmp_path, kserve=True).cfg) == {
        "cert-manager-v1.17.0.tgz": CERT_MANAGER_CHART, "kserve-crd-v0.20.0.tgz": KSERVE_CRD_CHART,
        "kserve-resources-v0.20.0.tgz": KSERVE_RESOURCES_CHART,
        "kserve-runtime-configs-v0.20.0.tgz": KSERVE_RUNTIME_CONFIGS_CHART}
    assert set(PACKAGES) <= set(lab_needs(_ctx(tmp_path, kserve=True)).files)
    assert not set(PACKAGES) & set(lab_needs(_ctx(tmp_path)).files)


def _registry(token: str | None, layers: list[dict[str, str]], blob: bytes = CHART) -> httpx.MockTransport:
    """An OCI registry as ghcr.io answers: 401 with a Bearer challenge until the realm's token is sent."""
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.test":
            assert request.url.params["scope"] == "repository:kserve/charts/kserve-crd:pull"
            return httpx.Response(200, json={"token": token})
        if token and request.headers.get("Authorization") != f"Bearer {token}":
            return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="https://auth.test/token",'
                                                'service="reg.test",scope="repository:kserve/charts/kserve-crd:pull"'})
        if request.url.path == "/v2/kserve/charts/kserve-crd/manifests/v0.20.0":
            assert oci_chart.MANIFEST in request.headers["Accept"]
            return httpx.Response(200, content=json.dumps({"layers": layers}).encode())
        if request.url.path == f"/v2/kserve/charts/kserve-crd/blobs/{DIGEST}":
            return httpx.Response(200, content=blob)
        return httpx.Response(404)
    return httpx.MockTransport(handler)


CHART_LAYER = [{"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": "sha256:" + "c" * 64},
               {"mediaType": oci_chart.CHART_LAYER, "digest": DIGEST}]


@pytest.mark.parametrize("token", [None, "anon-token"])
def test_an_oci_chart_is_pulled_with_the_registrys_anonymous_token_and_its_digest_checked(
        tmp_path: Path, token: str | None) -> None:
    with httpx.Client(transport=_registry(token, CHART_LAYER)) as client:
        got = oci_chart.pull(client, "reg.test/kserve/charts", "kserve-crd", "v0.20.0", tmp_path / "c.tgz")
    assert got == DIGEST.removeprefix("sha256:") and (tmp_path / "c.tgz").read_bytes() == CHART


def test_an_oci_package_that_differs_from_its_manifest_is_refused_and_not_written(tmp_path: Path) -> None:
    with httpx.Client(transport=_registry(None, CHART_LAYER, blob=b"changed on the way")) as client, \
            pytest.raises(LabError) as caught:
        oci_chart.pull(client, "reg.test/kserve/charts", "kserve-crd", "v0.20.0", tmp_path / "c.tgz")
    assert DIGEST in caught.value.message and "reg.test/kserve/charts/kserve-crd:v0.20.0" in caught.value.message
    assert not (tmp_path / "c.tgz").exists()


def test_an_oci_artifact_that_is_no_chart_and_a_missing_tag_are_named(tmp_path: Path) -> None:
    with httpx.Client(transport=_registry(None, CHART_LAYER[:1])) as client, pytest.raises(LabError) as caught:
        oci_chart.pull(client, "reg.test/kserve/charts", "kserve-crd", "v0.20.0", tmp_path / "c.tgz")
    assert "is not a Helm chart" in caught.value.message
    with httpx.Client(transport=_registry(None, CHART_LAYER)) as client, pytest.raises(LabError) as caught:
        oci_chart.pull(client, "reg.test/kserve/charts", "kserve-crd", "v9.9.9", tmp_path / "c.tgz")
    assert "HTTP 404" in caught.value.message and "versions.py" in (caught.value.hint or "")


def test_oci_repositories_are_https_unless_they_say_otherwise() -> None:
    assert oci_chart.split("ghcr.io/kserve/charts") == ("https://ghcr.io", "kserve/charts")
    assert oci_chart.split("http://127.0.0.1:5002/charts") == ("http://127.0.0.1:5002", "charts")
    assert chart.is_oci(KSERVE_CRD_CHART[2]) and not chart.is_oci(CERT_MANAGER_CHART[2])


def test_files_from_carries_the_kserve_charts(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, kserve=True)
    source = tmp_path / "from"
    source.mkdir()
    for name in lab_needs(ctx).files:
        (source / name).write_bytes(f"{name}\n".encode())
    with fetch.files_for(ctx, source=source) as files:
        assert [files.paths[name].read_bytes() for name in PACKAGES] == [f"{n}\n".encode() for n in PACKAGES]


@pytest.mark.parametrize("offline", [False, True])
def test_offline_the_kserve_applications_read_their_charts_from_the_labs_gitea(tmp_path: Path, offline: bool) -> None:
    from gitopslab.lint import lint
    from gitopslab.lint.policy import default_allowed_repos
    from gitopslab.stack.delivery import prepare_workspace, workspace

    ctx = _ctx(tmp_path, kserve=True, observability=True, offline=offline, ports={"gitea": 3300})
    prepare_workspace(ctx)
    tree = workspace(ctx) / "gitops"
    lab_repo = "http://gitea.localhost:3300/api/packages/platform/helm"
    for name, (chart_name, version, upstream) in {"cert-manager": CERT_MANAGER_CHART, "kserve-crd": KSERVE_CRD_CHART,
                                                  "kserve": KSERVE_RESOURCES_CHART,
                                                  "kserve-runtimes": KSERVE_RUNTIME_CONFIGS_CHART}.items():
        spec = yaml.safe_load((tree / f"base/platform/kserve/{name}.yaml").read_text())["spec"]
        source = spec["source"] if "source" in spec else spec["sources"][0]
        assert (source["repoURL"], source["chart"], source["targetRevision"]) == \
            (lab_repo if offline else upstream, chart_name, version)
    repos = yaml.safe_load((tree / "projects/platform.yaml").read_text())["spec"]["sourceRepos"]
    assert len(repos) == len(set(repos))  # three repositories become one: listed once (Argo CD's project API)
    assert (lab_repo in repos) is offline
    assert bool({KSERVE_CRD_CHART[2], CERT_MANAGER_CHART[2]} & set(repos)) is not offline
    assert lint(tree, allowed_repos=default_allowed_repos(ctx.cfg)).exit_code == 0


def test_the_upload_step_names_a_missing_kserve_chart_before_it_uploads_any(tmp_path: Path) -> None:
    from gitopslab.stack.gitea import charts

    ctx = _ctx(tmp_path, kserve=True, offline=True)
    assert charts.needed(ctx) and not charts.needed(_ctx(tmp_path, kserve=True))
    folder = bundle_dir(ctx)
    folder.mkdir(parents=True)
    for name in PACKAGES[:-1]:
        (folder / name).write_bytes(CHART)
    with pytest.raises(LabError) as caught:  # no Gitea runs here: reaching it first would be another error
        charts.upload(ctx)
    assert caught.value.message.startswith("offline: the kserve profile's chart kserve-runtime-configs v0.20.0 "
                                           "is not in the loaded bundle")
