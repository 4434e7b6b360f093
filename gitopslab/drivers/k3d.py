"""k3d, wrapped like `gitopslab.drivers.kube`: a command builder, one `run()` through `gitopslab.drivers.proc`, errors
chosen from stderr with a hint. Only the verbs the lab uses: cluster create/start/stop/delete/list,
kubeconfig get/merge.

    ToolError
    └── ClusterNotFound   k3d knows no cluster of that name
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitopslab.drivers import proc, pull
from gitopslab.errors import EngineError, LabError, ToolError, redact


class ClusterNotFound(ToolError):
    pass


_KNOWN: list[tuple[str, type[LabError], str]] = [
    ("No nodes found for given cluster", ClusterNotFound, "create it with `gitopslab up`"),
    ("failed to get cluster", ClusterNotFound, "create it with `gitopslab up`"),
    ("port is already allocated", ToolError,
     "another program holds one of the lab's ports: `gitopslab doctor` names it; free it or change "
     "`ports:` in gitopslab.yaml (then `gitopslab destroy --yes && gitopslab up`)"),
    ("address already in use", ToolError,
     "another program holds one of the lab's ports: `gitopslab doctor` names it"),
    ("Cannot connect to the Docker daemon", EngineError, "start Docker (or Podman) and run again"),
    ("already exists", ToolError, "`gitopslab destroy --yes` removes the old cluster first"),
]


# k3d's closing words say that it failed, not why ("Cluster creation FAILED, all changes have been
# rolled back!"): the cause is in an earlier ERRO/FATA line.
_CLOSING = ("cluster creation failed", "all changes have been rolled back", "failed to create cluster")
_LOG_LINE = re.compile(r"^\s*(?:ERRO|FATA)\[\d+\]\s*(.+)$")


def failure(what: str, result: proc.Completed) -> LabError:
    """The error for a failed k3d command: a pull failure names the image (k3d pulls its helper images
    k3d-proxy and k3d-tools itself); otherwise the known stderr fragments pick the kind, and the cause
    is k3d's first error line rather than its closing one."""
    text = f"{result.stderr}\n{result.stdout}"
    pulled = pull.failure_in(text)
    if pulled:
        return EngineError(redact(f"{what} failed: {pulled.sentence()}"), hint=pulled.hint())
    error = proc.tool_error(what, result, _KNOWN)
    if any(word in result.last_error_line().lower() for word in _CLOSING):
        causes = [m.group(1).strip() for m in map(_LOG_LINE.match, text.splitlines())
                  if m and not any(word in m.group(1).lower() for word in _CLOSING)]
        if causes:
            return type(error)(redact(f"{what} failed: {causes[0]}"), hint=error.hint)
    return error


@dataclass(frozen=True)
class ClusterInfo:
    """One entry of `k3d cluster list -o json`."""

    name: str
    servers_running: int
    servers_count: int
    agents_running: int
    agents_count: int
    nodes: tuple[tuple[str, str, bool], ...]  # (node name, role, running)

    @property
    def running(self) -> bool:
        return self.servers_running == self.servers_count and self.agents_running == self.agents_count

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClusterInfo:
        nodes = tuple(
            (str(n.get("name", "")), str(n.get("role", "")), bool((n.get("State") or {}).get("Running")))
            for n in data.get("nodes") or []
        )
        return cls(str(data.get("name", "")), int(data.get("serversRunning", 0)), int(data.get("serversCount", 0)),
                   int(data.get("agentsRunning", 0)), int(data.get("agentsCount", 0)), nodes)


class K3d:
    def __init__(self, *, binary: str = "k3d", runner: proc.Runner | None = None, timeout: float = 600.0) -> None:
        self.binary = binary
        self.runner = runner or proc.run
        self.timeout = timeout

    def command(self, *args: str) -> list[str]:
        return [self.binary, *args]

    def run(self, *args: str, timeout: float | None = None) -> str:
        result = self.runner(self.command(*args), timeout=timeout or self.timeout)
        if not result.ok:
            raise failure(f"k3d {' '.join(args)}", result)
        return str(result.stdout)

    # --- cluster -------------------------------------------------------------------------------
    def cluster_list(self) -> list[ClusterInfo]:
        out = self.run("cluster", "list", "-o", "json").strip()
        return [ClusterInfo.from_json(c) for c in (json.loads(out) if out else [])]

    def cluster_get(self, name: str) -> ClusterInfo | None:
        return next((c for c in self.cluster_list() if c.name == name), None)

    def cluster_create(self, config: Path) -> str:
        return self.run("cluster", "create", "--config", str(config))

    def cluster_start(self, name: str) -> str:
        return self.run("cluster", "start", name, "--wait")

    def cluster_stop(self, name: str) -> str:
        return self.run("cluster", "stop", name)

    def cluster_delete(self, name: str) -> str:
        return self.run("cluster", "delete", name)

    # --- kubeconfig ----------------------------------------------------------------------------
    def kubeconfig_get(self, name: str) -> str:
        return self.run("kubeconfig", "get", name)

    def kubeconfig_merge_default(self, name: str) -> str:
        """Merge into the user's default kubeconfig (~/.kube/config) without switching context."""
        return self.run("kubeconfig", "merge", name, "--kubeconfig-merge-default",
                        "--kubeconfig-switch-context=false")


def context_name(cluster: str) -> str:
    """k3d names the kubeconfig context after the cluster."""
    return f"k3d-{cluster}"
