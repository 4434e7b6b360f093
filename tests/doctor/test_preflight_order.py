"""Issue 11 item 17: preflight's order and words. `up` offers to download k3d/kubectl only when they are
all that is missing (a stopped engine is said first, nothing is asked); a missing Compose plugin is
called missing, not "older than 2.20.0"."""

from __future__ import annotations

import pytest

from gitopslab.context import Context
from gitopslab.doctor import host, preflight
from gitopslab.doctor.preflight import ensure_preflight
from gitopslab.doctor.probe import Probe
from gitopslab.doctor.result import fail, ok
from gitopslab.drivers import tools
from gitopslab.errors import PreflightError
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.state import LabState
from tests.support.compose_lab import DEFAULT_PORTS, free_ports
from tests.support.preflight import installing_k3d, path_without_k3d

PORTS = ("gitea", "woodpecker", "registry", "kube_api", "argocd", "hello_api", "mlflow", "minio_api",
         "minio_console", "dashboard")


def _ctx(name: str) -> Context:
    # Free ports, so a busy host does not add problems of its own; all held open at once while chosen
    # (one free port after another can repeat, and the configuration refuses two services on one port).
    ports = dict(zip(PORTS, free_ports(len(PORTS), DEFAULT_PORTS), strict=True))
    return Context.from_config(LabConfig.model_validate({
        "name": name, "ports": ports, "resources": {"memory_gib": 0.5}, }))


def test_engine_down_is_said_before_any_download_is_offered(tmp_path, unique_name, monkeypatch):
    path_without_k3d(tmp_path, monkeypatch)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    offered: list[list[str]] = []
    with pytest.raises(PreflightError) as exc:
        ensure_preflight(_ctx(unique_name), offer_tools=offered.append)
    assert offered == []  # nothing was asked
    assert "  - engine: no container engine answers" in exc.value.message
    assert "  - k3d: k3d is not installed" in exc.value.message  # still listed, with its install hint


def test_up_yes_installs_k3d_although_the_engine_is_down_and_reports_the_rest(tmp_path, unique_name,
                                                                              monkeypatch):
    # Issue 23 item 3: with --yes nothing is asked, so what can be installed is, whatever else failed.
    path_without_k3d(tmp_path, monkeypatch)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    offered: list[list[str]] = []
    ctx = _ctx(unique_name)
    ctx.assume_yes = True
    with pytest.raises(PreflightError) as exc:
        ensure_preflight(ctx, offer_tools=installing_k3d(offered))
    assert offered == [["k3d"]]
    assert "  - engine: no container engine answers" in exc.value.message
    assert "  - k3d:" not in exc.value.message  # installed, so no longer a problem


def test_missing_k3d_alone_is_offered_and_preflight_passes_after_it(tmp_path, unique_name, monkeypatch):
    # The host as preflight sees it: everything fine but k3d; k3d answers once the offer installed it.
    path_without_k3d(tmp_path, monkeypatch)
    offered: list[list[str]] = []

    def host_now(ctx, timeout=None):  # noqa: ANN001, ANN202
        k3d = tools.find("k3d")
        return [ok("Host", "engine", "docker 29.1.3"),
                ok("Host", "k3d", f"k3d {k3d.version}") if k3d.ok else fail("Host", "k3d", "k3d is not installed")]

    monkeypatch.setattr(preflight, "run_preflight", host_now)
    results = preflight.ensure_preflight(_ctx(unique_name), offer_tools=installing_k3d(offered, "v5.8.3"))
    assert offered == [["k3d"]]
    assert {r.name: r.status for r in results} == {"engine": "ok", "k3d": "ok"}


def test_missing_compose_plugin_is_called_missing(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"  # Docker without the Compose plugin answers exactly this
    docker.write_text("#!/bin/sh\necho \"docker: unknown command: docker $1\" >&2\nexit 1\n")
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("GITOPSLAB_DATA_DIR", str(tmp_path / "data"))
    cfg = LabConfig(name="compose-test")
    res = host.compose(Probe(cfg, build(cfg), LabState(cfg.name, root=tmp_path / "state"), 3.0))
    assert res.status == "fail"
    assert res.detail == 'Docker Compose v2 is missing: `docker compose` answers "docker: unknown command: docker compose"'
    assert "older" not in res.detail and "docker-compose" in (res.fix or "")
