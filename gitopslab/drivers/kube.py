"""kubectl with the lab's kubeconfig and context, wrapped the way python-on-whales wraps docker:
methods build the command line (verbs are methods, flags keyword arguments), every call goes through
one `run()` (`gitopslab.drivers.proc.run` unless a runner is injected), and a failure becomes a `ToolError`
chosen from stderr, with a hint. Secrets travel on stdin, never on the command line.

    ToolError
    └── KubeNotFound      the object (or its kind) does not exist: checks treat it as "not done"
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from gitopslab.drivers import proc
from gitopslab.errors import LabError, ToolError


class KubeNotFound(ToolError):
    """The object asked for is not there (`NotFound`), or its kind is not installed yet."""


# (stderr fragment, error class, hint): the first match picks the error.
_KNOWN: list[tuple[str, type[ToolError], str]] = [
    ("(NotFound)", KubeNotFound, "it is created by `gitopslab up`"),
    ("doesn't have a resource type", KubeNotFound, "its CRDs are installed by `gitopslab up`"),
    ("no matches for kind", KubeNotFound, "its CRDs are installed by `gitopslab up`"),
    ("was refused - did you specify", ToolError, "the cluster is not running: `gitopslab up` starts it"),
    ("connection refused", ToolError, "the cluster is not running: `gitopslab up` starts it"),
    ("Unable to connect to the server", ToolError, "the cluster is not running: `gitopslab up` starts it"),
    ("context was not found", ToolError, "the lab's kubeconfig is stale: `gitopslab up` writes it again"),
    ("You must be logged in", ToolError, "the lab's kubeconfig is stale: `gitopslab up` writes it again"),
    ("Forbidden", ToolError, "the kubeconfig's user lacks the right; use the lab's kubeconfig (`gitopslab kubeconfig`)"),
    ("timed out waiting", ToolError, "see what is not ready: `gitopslab doctor`"),
]


class Kubectl:
    def __init__(
        self,
        kubeconfig: Path,
        context: str,
        *,
        binary: str = "kubectl",
        runner: proc.Runner | None = None,
        secrets: Iterable[str] = (),
        timeout: float = 300.0,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self.binary = binary
        self.runner = runner or proc.run
        self.secrets = [s for s in secrets if s]
        self.timeout = timeout

    # --- the one place a command is run -------------------------------------------------------
    def command(self, *args: str) -> list[str]:
        return [self.binary, "--kubeconfig", str(self.kubeconfig), "--context", self.context, *args]

    def run(self, *args: str, input: str | None = None, timeout: float | None = None) -> str:
        result = self.runner(self.command(*args), input=input, timeout=timeout or self.timeout)
        if not result.ok:
            raise self._error(args, result)
        return str(result.stdout)

    def _error(self, args: Sequence[str], result: proc.Completed) -> LabError:
        return proc.tool_error(f"kubectl {' '.join(args)}", result, _KNOWN, self.secrets)

    # --- verbs -----------------------------------------------------------------------------------
    def get_json(self, kind: str, name: str | None = None, namespace: str | None = None,
                 all_namespaces: bool = False) -> dict[str, Any]:
        args = ["get", kind] + ([name] if name else [])
        args += _ns(namespace) + (["--all-namespaces"] if all_namespaces else []) + ["-o", "json"]
        return dict(json.loads(self.run(*args)))

    def exists(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return self.get_json(kind, name, namespace)
        except KubeNotFound:
            return None

    def get_files(self, paths: Sequence[Path]) -> list[str]:
        """`kubectl get -f DIR ... -o name`: the objects the files define, as they exist in the cluster."""
        args = ["get"] + [a for p in paths for a in ("-f", str(p))] + ["-o", "name"]
        return [ln for ln in self.run(*args).splitlines() if ln.strip()]

    def apply(self, *, stdin: str | None = None, path: str | Path | None = None, namespace: str | None = None,
              server_side: bool = True, force_conflicts: bool = False, field_manager: str = "gitopslab") -> str:
        """Server-side apply of a file, folder, URL or stdin (where rendered objects and secrets go)."""
        args = ["apply"] + _ns(namespace)
        if server_side:
            args += ["--server-side", f"--field-manager={field_manager}"]
        if force_conflicts:
            args.append("--force-conflicts")
        args += ["-f", "-" if stdin is not None else str(path)]
        return self.run(*args, input=stdin)

    def rollout_restart(self, kind_name: str, namespace: str) -> str:
        return self.run("rollout", "restart", kind_name, *_ns(namespace))

    def rollout_status(self, kind_name: str, namespace: str, timeout_s: float) -> str:
        return self.run("rollout", "status", kind_name, *_ns(namespace), f"--timeout={int(timeout_s)}s",
                        timeout=timeout_s + 30)


def _ns(namespace: str | None) -> list[str]:
    return ["-n", namespace] if namespace else []


