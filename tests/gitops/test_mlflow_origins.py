"""MLflow in a lab with its own name and port: the localized tree gives the server this lab's browser URL as
its one allowed cross-origin source, and a real MLflow server (the pipeline's 3.17.2) then accepts the UI's
POST to /ajax-api/ from that URL and still refuses any other origin."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import yaml

from gitopslab.context import Context
from gitopslab.lint import shipped_gitops_dir
from gitopslab.lint.loader import find_kubectl
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render.gitops_tree import localizations
from gitopslab.stack.delivery import localize_tree
from gitopslab.state import LabState
from tests.support.services import free_port, running, tool

LAB = LabConfig(ports={"mlflow": 18090, "gitea": 13000}, hostnames={"mlflow": "ml.lab.localhost"})


def _mlflow_env(tree: Path) -> dict[str, str]:
    out = subprocess.run([find_kubectl(), "kustomize", str(tree / "clusters" / "ml-dev")],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    deploy = next(d for d in yaml.safe_load_all(out) if d and d["kind"] == "Deployment" and
                  d["metadata"]["name"] == "mlflow")
    [container] = deploy["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def _localized(tmp_path: Path, cfg: LabConfig) -> Path:
    tree = tmp_path / "gitops"
    shutil.copytree(shipped_gitops_dir(), tree)
    localize_tree(Context(cfg=cfg, topo=build(cfg), state=LabState(cfg.name, tmp_path / "state")), tree)
    return tree


def test_the_default_lab_needs_no_rewrite_and_lists_its_url() -> None:
    topo = build(LabConfig())
    assert localizations(topo) == []
    env = _mlflow_env(shipped_gitops_dir())
    assert env["MLFLOW_SERVER_CORS_ALLOWED_ORIGINS"] == topo.service("mlflow").url == "http://mlflow.localhost:8090"


def test_the_origin_and_allowed_host_follow_the_labs_name_and_port(tmp_path: Path) -> None:
    env = _mlflow_env(_localized(tmp_path, LAB))
    assert env["MLFLOW_SERVER_CORS_ALLOWED_ORIGINS"] == "http://ml.lab.localhost:18090"
    hosts = env["MLFLOW_SERVER_ALLOWED_HOSTS"].split(",")
    assert "ml.lab.localhost:*" in hosts and "mlflow.localhost:*" not in hosts


def test_real_mlflow_accepts_the_ui_post_from_the_lab_url_only(tmp_path: Path) -> None:
    env = _mlflow_env(_localized(tmp_path, LAB))
    port = free_port()
    argv = [tool("mlflow"), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"]
    server_env = {k: env[k] for k in ("MLFLOW_SERVER_ALLOWED_HOSTS", "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS")}
    # What the browser sends from http://ml.lab.localhost:18090 (the edge forwards to the server).
    ui_headers = {"Host": "ml.lab.localhost:18090"}
    path = "/ajax-api/2.0/mlflow/experiments/create"
    with running("MLflow", argv, tmp_path / "mlflow.log", f"http://127.0.0.1:{port}", "/health", 120, server_env), \
            httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=ui_headers, timeout=30) as ui:
        ok = ui.post(path, json={"name": "from-the-ui"}, headers={"Origin": "http://ml.lab.localhost:18090"})
        other = ui.post(path, json={"name": "elsewhere"}, headers={"Origin": "http://mlflow.localhost:8090"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["experiment_id"]
    assert other.status_code == 403 and "Cross-origin request blocked" in other.text
