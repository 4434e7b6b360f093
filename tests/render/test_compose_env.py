"""Environment that reaches containers and pods: the lab's git variables (libcurl's *.localhost rule)
and, behind a proxy, one NO_PROXY list that keeps every lab-internal call off the proxy."""

from __future__ import annotations

import yaml

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render import argocd as objs
from gitopslab.render import compose_env, k3d
from gitopslab.render.git_env import git_resolve_env, woodpecker_environment

PROXIED = {"proxy": {"http_proxy": "http://proxy.corp:3128", "https_proxy": "http://proxy.corp:3128",
                     "no_proxy": "corp.internal"}}


def test_git_variables_pin_gitea_to_its_fixed_address() -> None:
    cfg = LabConfig(ports={"gitea": 13000})
    topo = build(cfg)
    gitea = topo.service("gitea")
    assert git_resolve_env(topo) == {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.curloptResolve",
        "GIT_CONFIG_VALUE_0": f"gitea.localhost:13000:{gitea.ip}",
    }


def test_every_ci_step_gets_them_through_woodpecker_environment() -> None:
    topo = build(LabConfig())
    rendered = compose_env.values(LabConfig(), topo)["WOODPECKER_ENVIRONMENT"]
    assert rendered == woodpecker_environment(topo)
    # Woodpecker splits items at commas, then each at its first colon.
    assert dict(item.split(":", 1) for item in rendered.split(",")) == git_resolve_env(topo)


def _env(obj: dict) -> dict[str, str]:
    container = obj["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"]}


def test_argocd_repo_server_gets_the_git_variables_and_no_proxy_without_a_proxy() -> None:
    cfg = LabConfig()
    env = _env(objs.repo_server(cfg, build(cfg)))
    assert env == git_resolve_env(build(cfg))


def _no_proxy_entries(value: str) -> set[str]:
    return set(value.split(","))


def test_behind_a_proxy_nodes_and_repo_server_bypass_it_for_everything_of_the_lab() -> None:
    cfg = LabConfig.model_validate(PROXIED)
    topo = build(cfg)
    lab_own = {"corp.internal", "localhost", "127.0.0.1", topo.subnet, *topo.hostnames,
               "10.42.0.0/16", "10.43.0.0/16", ".svc", ".cluster.local"}
    repo_server = _env(objs.repo_server(cfg, topo))
    assert repo_server["HTTPS_PROXY"] == "http://proxy.corp:3128"
    assert _no_proxy_entries(repo_server["NO_PROXY"]) >= lab_own
    assert repo_server["no_proxy"] == repo_server["NO_PROXY"]
    node_env = dict(e["envVar"].split("=", 1) for e in yaml.safe_load(k3d.render_config(cfg, topo))["env"])
    assert _no_proxy_entries(node_env["NO_PROXY"]) >= lab_own
    assert _no_proxy_entries(compose_env.values(cfg, topo)["LAB_NO_PROXY"]) >= lab_own
