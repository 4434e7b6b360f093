"""The multicluster profile (issue 25): a second, small k3d cluster for production on the lab network.
Its config validates against k3d's schema; it publishes only the prd services and its API on 127.0.0.1;
the prd names resolve in every horizon (hosts block, pods of both clusters, the edge in the lab network);
without the profile nothing of it is rendered."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml

from gitopslab import render
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render import compose_env, names
from gitopslab.render import k3d as k3d_render

pytestmark = pytest.mark.contracts


def _valid(schema: dict[str, Any], text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
    assert errors == []
    return dict(doc)


def test_the_production_cluster_is_one_small_server_publishing_only_prd(k3d_schema: dict[str, Any]) -> None:
    cfg = LabConfig(name="demo", multicluster=True, ports={"kube_api_prd": 16551, "hello_api_prd": 18089})
    topo = build(cfg)
    prd = _valid(k3d_schema, k3d_render.render_prd_config(cfg, topo))
    dev = _valid(k3d_schema, k3d_render.render_config(cfg, topo))
    assert prd["metadata"]["name"] == topo.prd_cluster_name == "demo-prd"
    assert topo.clusters == ["demo", "demo-prd"]
    assert prd["servers"] == 1 and prd["agents"] == 0
    assert prd["network"] == dev["network"] == "demo"
    assert prd["kubeAPI"] == {"host": "127.0.0.1", "hostIP": "127.0.0.1", "hostPort": "16551"}
    assert [p["port"] for p in prd["ports"]] == ["127.0.0.1:18089:30888"]
    # dev's load balancer does not also claim the prd port, and each cluster keeps its own API port
    assert "127.0.0.1:18089:30888" not in [p["port"] for p in dev["ports"]]
    assert dev["kubeAPI"]["hostPort"] == "6550"
    assert prd["options"]["runtime"]["serversMemory"] == k3d_render.PRD_SERVER_MEMORY
    assert {"arg": "--tls-san=kube-prd.localhost", "nodeFilters": ["server:*"]} in prd["options"]["k3s"]["extraArgs"]
    assert {"label": "io.gitopslab.lab=demo", "nodeFilters": ["all"]} in prd["options"]["runtime"]["labels"]


def test_prd_names_are_valid_on_the_host_in_pods_and_in_the_lab_network() -> None:
    cfg = LabConfig(multicluster=True)
    topo = build(cfg)
    svc = topo.service("hello_api_prd")
    assert svc.url == "http://demo-prd.localhost:8089" and svc.cluster == "prd" and svc.namespace == "app-prd"
    assert topo.prd_api_url == "https://kube-prd.localhost:6551"
    # host: the hosts block names both
    assert {"127.0.0.1 demo-prd.localhost", "127.0.0.1 kube-prd.localhost"} <= set(names.host_lines(topo))
    # pods of both clusters: the same hostAliases, the prd names at the edge
    for text in (k3d_render.render_config(cfg, topo), k3d_render.render_prd_config(cfg, topo)):
        aliases = {n: a["ip"] for a in yaml.safe_load(text)["hostAliases"] for n in a["hostnames"]}
        assert aliases["demo-prd.localhost"] == aliases["kube-prd.localhost"] == topo.edge_ip
    assert "kube-prd.localhost:53" in names.render_coredns_server(topo)
    # lab network: the edge answers to both names and forwards to the prd node, dev's to the dev node
    env = compose_env.values(cfg, topo)
    assert env["HELLO_API_PRD_HOSTNAME"] == "demo-prd.localhost"
    assert env["KUBE_API_PRD_HOSTNAME"] == "kube-prd.localhost"
    edge = names.render_edge(topo)
    assert "map $server_port $gitopslab_prd_node { default k3d-gitopslab-prd-server-0; }" in edge
    assert "listen 8089;\n        proxy_pass $gitopslab_prd_node:30888;" in edge
    assert "listen 6551;\n        proxy_pass $gitopslab_prd_node:6443;" in edge
    assert "listen 8088;\n        proxy_pass $gitopslab_node:30888;" in edge
    assert topo.host_ports[6551] == "kube-api-prd" and topo.host_ports[8089] == "hello_api_prd"


def test_without_the_profile_nothing_of_it_is_rendered() -> None:
    cfg = LabConfig()
    topo = build(cfg)
    assert topo.clusters == ["gitopslab"] and topo.prd_api_url == ""
    assert "k3d/cluster-prd.yaml" not in render.artifacts(cfg, topo)
    assert "prd" not in names.render_edge(topo) and "demo-prd" not in names.render_coredns_server(topo)
    with pytest.raises(ValueError, match="multicluster profile is off"):
        k3d_render.prd_config(cfg, topo)
    # its ports only clash when the profile is on
    LabConfig(ports={"hello_api_prd": 8088})
    with pytest.raises(ValueError, match="ports.hello_api_prd and ports.hello_api are both 8088"):
        LabConfig(multicluster=True, ports={"hello_api_prd": 8088})
    assert "k3d/cluster-prd.yaml" in render.artifacts(LabConfig(multicluster=True), build(LabConfig(multicluster=True)))
