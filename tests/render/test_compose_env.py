"""Environment that reaches containers and pods: the lab's git variables (libcurl's *.localhost rule)
and, behind a proxy, one NO_PROXY list that keeps every lab-internal call off the proxy."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render import argocd as objs
from gitopslab.render import compose_env, k3d
from gitopslab.render.git_env import curl_resolve_entries, git_resolve_env, woodpecker_environment

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


def test_argocd_repo_server_reads_the_labs_git_config_file_and_no_proxy_without_a_proxy(tmp_path: Path) -> None:
    """Argo CD overrides GIT_CONFIG_COUNT/KEY/VALUE with its built-in config, so the repo-server gets the
    setting as a file from a ConfigMap, named by GIT_CONFIG_GLOBAL; real git reads it back."""
    cfg = LabConfig(ports={"gitea": 13000})
    topo = build(cfg)
    deploy = objs.repo_server(cfg, topo)
    env = _env(deploy)
    assert env == {"GIT_CONFIG_GLOBAL": "/etc/gitopslab/gitconfig"}  # no GIT_CONFIG_COUNT: Argo CD replaces it
    pod = deploy["spec"]["template"]["spec"]
    (mount,) = pod["containers"][0]["volumeMounts"]
    (volume,) = pod["volumes"]
    assert volume == {"name": mount["name"], "configMap": {"name": objs.GIT_CONFIG}}
    config_map = objs.repo_server_git_config(topo)
    assert (config_map["metadata"]["namespace"], mount["readOnly"]) == ("argocd", True)
    # The file git finds at GIT_CONFIG_GLOBAL: the ConfigMap's key under the mount's folder.
    (key,) = config_map["data"]
    assert f"{mount['mountPath']}/{key}" == env["GIT_CONFIG_GLOBAL"]
    path = tmp_path / key
    path.write_text(config_map["data"][key])
    read = subprocess.run(["git", "config", "--file", str(path), "--get-all", "http.curloptResolve"],
                          capture_output=True, text=True, check=True)
    assert read.stdout.splitlines() == curl_resolve_entries(topo) == [f"gitea.localhost:13000:{topo.service('gitea').ip}"]
    assert "argocd/argocd-repo-server-gitconfig.yaml" in objs.render(cfg, topo)


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
