"""Rendered artifacts: schema-valid k3d config, a compose env that `docker compose config` accepts,
every published port on 127.0.0.1, no secret values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from gitopslab import render
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.state import LabState

REPO = Path(__file__).resolve().parents[2]


def _render(tmp_path: Path, *flags: str) -> Path:
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "render", "--out", str(out), *flags],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("flags", [(), ("--profile", "gpu"), ("--profile", "observability")])
def test_k3d_config_validates_against_upstream_schema(tmp_path: Path, contracts_dir: Path,
                                                      flags: tuple[str, ...]) -> None:
    out = _render(tmp_path, *flags)
    schema = json.loads((contracts_dir / "k3d-config.schema.json").read_text())
    doc = yaml.safe_load((out / "k3d" / "cluster.yaml").read_text())
    jsonschema.validate(doc, schema)
    for port in doc["ports"]:
        assert port["port"].startswith("127.0.0.1:"), port
    assert doc["kubeAPI"]["hostIP"] == "127.0.0.1"
    assert doc["agents"] == (1 if "gpu" in flags else 0)


def test_artifacts_derive_from_topology_and_hold_no_secret(tmp_path: Path) -> None:
    cfg = load_config(None, {}, {"ports": {"gitea": 3300, "registry": 5500}})
    topo = build(cfg)
    files = render.artifacts(cfg, topo)
    secrets = LabState("x", tmp_path).secrets()
    for name, content in files.items():
        for value in secrets.values():
            if len(value) >= 8:
                assert value not in content, name
    assert "GITEA_ROOT_URL='http://gitea.localhost:3300/'" in files["compose/lab.env"]
    assert "<secret:woodpecker_agent_secret>" in files["compose/lab.env"]
    regs = yaml.safe_load(files["k3d/registries.yaml"])
    assert regs == {"mirrors": {"registry.localhost:5500": {"endpoint": ["http://registry.localhost:5500"]}}}
    assert files["hosts/hosts.txt"].splitlines()[1:-1] == [f"127.0.0.1 {n}" for n in topo.hostnames]
    gitea_ip = topo.service("gitea").ip
    assert f"{gitea_ip} gitea.localhost" in files["hosts/coredns-nodehosts.txt"].splitlines()
    edge = files["edge/nginx.conf"]
    assert "listen 8081;\n        proxy_pass $gitopslab_node:30081;" in edge
    assert f"default k3d-{topo.cluster_name}-server-0;" in edge


def test_render_with_real_secrets_substitutes_them(tmp_path: Path) -> None:
    cfg = load_config(None, {}, {})
    secrets = {"woodpecker_agent_secret": "s3cr3t-value-xyz"}
    env = render.artifacts(cfg, build(cfg), secrets)["compose/lab.env"]
    assert "WOODPECKER_AGENT_SECRET='s3cr3t-value-xyz'" in env


@pytest.mark.engine
def test_compose_config_accepts_rendered_env_for_every_profile(tmp_path: Path, engine: str) -> None:
    compose_dir = REPO / "compose"
    files = sorted(compose_dir.glob("*.y*ml"))
    if not files:
        pytest.fail("compose/ has no compose file")
    out = _render(tmp_path)
    base = [engine, "compose", "--env-file", str(out / "compose" / "lab.env"), "--project-directory", str(compose_dir)]
    for f in files:
        base += ["-f", str(f)]
    profiles = _profiles(files)
    for profile in [None, *profiles]:
        args = [*base, *(["--profile", profile] if profile else []), "config", "--format", "json"]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        model = json.loads(proc.stdout)
        for svc_name, svc in model.get("services", {}).items():
            for port in svc.get("ports", []):
                assert port.get("host_ip") == "127.0.0.1", (profile, svc_name, port)


def _profiles(files: list[Path]) -> list[str]:
    found: set[str] = set()
    for f in files:
        for svc in (yaml.safe_load(f.read_text()) or {}).get("services", {}).values():
            found.update(svc.get("profiles", []))
    return sorted(found)


def test_shipped_compose_files_publish_on_loopback_only() -> None:
    for f in (REPO / "compose").glob("*.y*ml"):
        for name, svc in (yaml.safe_load(f.read_text()) or {}).get("services", {}).items():
            for port in svc.get("ports", []):
                text = port if isinstance(port, str) else port.get("host_ip", "")
                assert str(text).startswith("127.0.0.1"), (f.name, name, port)


def test_cli_render_json_lists_files(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "--json", "render", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=60)
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "gitopslab/render" and doc["version"] == 1
    assert "k3d/cluster.yaml" in doc["data"]["files"]


def test_render_prints_the_core_memory_footprint(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "render", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("memory limits of the core workloads")][0]
    total = float(line.split(": ")[1].split(" GiB")[0])
    assert 0 < total <= 4.0
    assert "Deployment/app-dev/hello-api" in proc.stdout
