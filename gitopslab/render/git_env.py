"""Git's view of the lab's names inside containers and pods: pin libcurl's resolution of each lab host
that git talks to over HTTP.

libcurl (>= 7.85) answers every `*.localhost` name with loopback before it asks the resolver, so git in
a CI step container or in Argo CD's repo-server would send `http://gitea.localhost:3000/...` to its
own 127.0.0.1, whatever the network aliases and CoreDNS say. `http.curloptResolve` fills libcurl's DNS
cache, which it reads before that rule (git >= 2.37), and git reads config from GIT_CONFIG_COUNT /
GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n (git >= 2.31), so one set of environment variables fixes every
git in a container without touching its image: CI steps and `up`'s own step containers get them.

Argo CD's repo-server is the exception: it appends its own built-in GIT_CONFIG_COUNT/KEY/VALUE after the
process environment for every git it runs (util/git/client.go, `--enable-builtin-git-config`, on by
default), and the last value of a repeated variable wins. It gets the same setting as a git config file
instead (`gitconfig`), named by GIT_CONFIG_GLOBAL (git >= 2.32), which Argo CD passes on untouched.
See docs/ARCHITECTURE.md, "One URL for git".
"""

from __future__ import annotations

from collections.abc import Mapping

from gitopslab.model.topology import Topology

# The lab services that git reaches over HTTP (clone, fetch, push).
GIT_SERVICES = ("gitea",)


def curl_resolve_entries(topo: Topology) -> list[str]:
    """`host:port:address` for libcurl's CURLOPT_RESOLVE, one per git host of the lab."""
    entries = []
    for key in GIT_SERVICES:
        svc = topo.service(key)
        if svc.ip:
            entries.append(f"{svc.hostname}:{svc.port}:{svc.ip}")
    return entries


def git_resolve_env(topo: Topology) -> dict[str, str]:
    """GIT_CONFIG_* variables carrying one `http.curloptResolve` value per git host."""
    entries = curl_resolve_entries(topo)
    env = {"GIT_CONFIG_COUNT": str(len(entries))}
    for i, entry in enumerate(entries):
        env[f"GIT_CONFIG_KEY_{i}"] = "http.curloptResolve"
        env[f"GIT_CONFIG_VALUE_{i}"] = entry
    return env


def gitconfig(topo: Topology) -> str:
    """The same setting as a git config file (for Argo CD's repo-server: GIT_CONFIG_GLOBAL names it)."""
    lines = ["# gitopslab: libcurl sends *.localhost to loopback; pin each lab git host to its lab address",
             "[http]"]
    lines += [f"\tcurloptResolve = {entry}" for entry in curl_resolve_entries(topo)]
    return "\n".join(lines) + "\n"


def woodpecker_environment(topo: Topology, extra: Mapping[str, str] | None = None) -> str:
    """The same variables in WOODPECKER_ENVIRONMENT's `KEY:value,KEY:value` form (every step, clone
    included; Woodpecker splits each item at its first colon, so the values may hold colons), and any
    `extra` for every step (pip's mirror index)."""
    env = git_resolve_env(topo) | dict(extra or {})
    return ",".join(f"{key}:{value}" for key, value in env.items())
