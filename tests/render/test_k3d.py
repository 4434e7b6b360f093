"""The k3d config for core and gpu validates against k3d's v1alpha5 schema, and what it carries (ports,
registry mirror, host entries) is what the topology says, computed here from the topology."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gitopslab import render
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.model.versions import IMAGES, k3s_cuda_tag
from gitopslab.render import k3d as k3d_render
from gitopslab.render import names

pytestmark = pytest.mark.contracts


def _validate(schema: dict[str, Any], text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []
    return dict(doc)


@pytest.mark.parametrize("gpu", ["off", "on", "auto"])
def test_rendered_config_is_schema_valid(k3d_schema: dict[str, Any], gpu: str) -> None:
    cfg = LabConfig(gpu=gpu)
    doc = _validate(k3d_schema, k3d_render.render_config(cfg, build(cfg)))
    assert doc["apiVersion"] == "k3d.io/v1alpha5" and doc["kind"] == "Simple"


def test_core_config_follows_the_topology(k3d_schema: dict[str, Any]) -> None:
    cfg = LabConfig(ports={"argocd": 18081, "kube_api": 16550}, network={"subnet": "10.77.0.0/24"}, name="demo")
    topo = build(cfg)
    doc = _validate(k3d_schema, k3d_render.render_config(cfg, topo))
    expected_ports = [f"127.0.0.1:{s.port}:{s.node_port}" for s in topo.by_layer("cluster") if s.node_port]
    assert [p["port"] for p in doc["ports"]] == expected_ports
    assert all(p["port"].startswith("127.0.0.1:") for p in doc["ports"])
    assert "127.0.0.1:18081:30081" in expected_ports  # the topology moved Argo CD's host port, not the NodePort
    assert doc["kubeAPI"] == {"host": "127.0.0.1", "hostIP": "127.0.0.1", "hostPort": "16550"}
    assert doc["network"] == topo.network == "demo"
    assert doc["metadata"]["name"] == topo.cluster_name
    assert doc["servers"] == 1 and doc["agents"] == 0
    assert doc["image"] == IMAGES["k3s"]
    assert {"arg": "--disable=traefik", "nodeFilters": ["server:*"]} in doc["options"]["k3s"]["extraArgs"]
    assert doc["options"]["kubeconfig"] == {"updateDefaultKubeconfig": False, "switchCurrentContext": False}
    assert "gpuRequest" not in doc["options"]["runtime"]


def test_registry_mirror_and_names_in_pods() -> None:
    cfg = LabConfig(ports={"registry": 5999}, hostnames={"registry": "reg.localhost"})
    topo = build(cfg)
    registry = topo.service("registry")
    doc = yaml.safe_load(k3d_render.render_config(cfg, topo))
    expected = f"mirrors:\n  {registry.hostname}:{registry.port}:\n    endpoint:\n    - http://{registry.hostname}:{registry.port}\n"
    assert doc["registries"]["config"] == expected == k3d_render.render_registries(topo)
    # Every lab name resolves in pods: compose services at their fixed address, cluster ones at the edge.
    aliases = {name: a["ip"] for a in doc["hostAliases"] for name in a["hostnames"]}
    for svc in topo.services:
        assert aliases[svc.hostname] == (svc.ip if svc.layer == "compose" else topo.edge_ip)
    assert aliases["reg.localhost"] == registry.ip
    nodehosts = names.render_nodehosts(topo).splitlines()
    assert sorted(nodehosts) == sorted(f"{ip} {name}" for name, ip in aliases.items())
    block = names.render_block(topo).splitlines()
    assert block[1:-1] == [f"127.0.0.1 {name}" for name in topo.hostnames]


def test_gpu_profile_adds_a_tainted_gpu_agent_on_the_cuda_image(k3d_schema: dict[str, Any]) -> None:
    cfg = LabConfig(gpu="on", images={"k3s": "docker.io/rancher/k3s:v1.34.1-k3s1"})
    doc = _validate(k3d_schema, k3d_render.render_config(cfg, build(cfg)))
    assert doc["agents"] == 1
    assert doc["image"] == k3s_cuda_tag("docker.io/rancher/k3s:v1.34.1-k3s1", IMAGES["k3s-cuda-base"])
    assert "v1.34.1-k3s1" in doc["image"]
    assert doc["options"]["runtime"]["gpuRequest"] == "all"
    assert {"label": k3d_render.GPU_NODE_LABEL, "nodeFilters": ["agent:0"]} in doc["options"]["k3s"]["nodeLabels"]
    assert {"arg": f"--node-taint={k3d_render.GPU_NODE_TAINT}", "nodeFilters": ["agent:0"]} in \
        doc["options"]["k3s"]["extraArgs"]


@pytest.mark.parametrize("gpu", ["off", "on"])
def test_render_writes_schema_valid_files_without_secrets(tmp_path: Path, k3d_schema: dict[str, Any], gpu: str) -> None:
    cfg = LabConfig(gpu=gpu)
    topo = build(cfg)
    files = render.artifacts(cfg, topo)
    render.write(tmp_path, files)
    _validate(k3d_schema, (tmp_path / "k3d" / "cluster.yaml").read_text())
    repo_secret = yaml.safe_load((tmp_path / "argocd" / "repository-secret.yaml").read_text())
    assert repo_secret["stringData"]["password"] == "<secret:gitea_argocd_token>"
    webhook = yaml.safe_load((tmp_path / "argocd" / "argocd-webhook-secret.yaml").read_text())
    assert webhook["stringData"] == {"webhook.gogs.secret": "<secret:argocd_webhook_secret>"}
    json.dumps(files)  # all text
