"""What every check is handed: the lab (config, topology, state), the per-check timeout, and small
helpers to reach the lab the way a participant does: HTTP to a service by its lab name (mapped to
127.0.0.1 here, keeping the Host header, so the host resolver never matters), the engine CLI, and
kubectl with the lab's kubeconfig. Every call is bounded by the per-check timeout.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from gitopslab.model.config import LabConfig
    from gitopslab.model.topology import Service, Topology
    from gitopslab.state import LabState

DEFAULT_CHECK_TIMEOUT = 3.0


@dataclass
class Cmd:
    rc: int
    out: str
    err: str

    @property
    def last_error(self) -> str:
        lines = (self.err.strip() or self.out.strip() or f"exit status {self.rc}").splitlines()
        return lines[-1].strip()


@dataclass
class Probe:
    cfg: LabConfig
    topo: Topology
    state: LabState
    timeout: float = DEFAULT_CHECK_TIMEOUT
    _memo: dict[str, Any] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    # --- shared, computed once per run (several checks read one `docker ps`) --------------------
    def once(self, key: str, fn: Callable[[], Any]) -> Any:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._memo:
                try:
                    self._memo[key] = ("ok", fn())
                except Exception as exc:  # the error is shared too: every reader sees the same cause
                    self._memo[key] = ("err", exc)
        kind, value = self._memo[key]
        if kind == "err":
            raise value
        return value

    # --- HTTP ------------------------------------------------------------------------------------
    def http(self, svc: Service, path: str, method: str = "GET", timeout: float | None = None,
             **kwargs: Any) -> httpx.Response:
        """A request to a lab service by its lab name, sent to 127.0.0.1 with `Host: name:port`."""
        from gitopslab.clients.loopback import request

        return request(svc, path, method, timeout=timeout or self.timeout, **kwargs)

    # --- commands --------------------------------------------------------------------------------
    def run(self, argv: list[str], timeout: float | None = None) -> Cmd:
        """Never raises: a check turns the exit status (127 missing, 124 timeout, 126 cannot run) into its line."""
        from gitopslab.drivers import proc

        exe = shutil.which(argv[0]) if not os.path.isabs(argv[0]) else argv[0]
        if not exe:
            return Cmd(127, "", f"{argv[0]}: not found on PATH")
        # The name as given (the log shows what a person would type); Windows' CreateProcess knows no PATHEXT.
        argv_run = [exe, *argv[1:]] if os.name == "nt" else argv
        try:  # input="": stdin is empty, so nothing a check runs can wait on the terminal
            done = proc.run(argv_run, input="", timeout=timeout or self.timeout)
        except proc.TimedOut:
            return Cmd(124, "", f"`{' '.join(argv[:3])}` did not answer within {timeout or self.timeout:.0f} s")
        except (proc.NotFound, OSError) as exc:  # gone since which(), or not executable
            cause = exc.__cause__ or exc
            return Cmd(126, "", f"{argv[0]}: {getattr(cause, 'strerror', None) or cause}")
        return Cmd(done.returncode, done.stdout, done.stderr)

    def engine_info(self) -> Any:
        """The engine that answers (EngineInfo), detected once per run; raises EngineError."""
        from gitopslab.drivers.engine import detect

        return self.once("engine", lambda: detect(self.cfg.engine, timeout=self.timeout))

    @property
    def engine_cli(self) -> str:
        kind, value = self._memo.get("engine", (None, None))
        if kind == "ok":
            return str(value.cli)
        return "podman" if self.cfg.engine == "podman" else "docker"

    @property
    def engine_name(self) -> str:
        """For messages: `docker` or `podman`, not the CLI's full path."""
        return os.path.basename(self.engine_cli).removesuffix(".exe")

    def docker(self, *args: str, timeout: float | None = None) -> Cmd:
        return self.run([self.engine_cli, *args], timeout)

    def kubectl_raw(self, path: str, timeout: float | None = None, kubeconfig: Path | None = None) -> Any:
        """GET an API path with the lab's kubeconfig (or another of the lab's: the production cluster's);
        JSON, or a KubeError with kubectl's last line."""
        t = timeout or self.timeout
        cmd = self.run(["kubectl", "--kubeconfig", str(kubeconfig or self.state.kubeconfig),
                        f"--request-timeout={max(int(t), 1)}s", "get", "--raw", path], t + 0.5)
        if cmd.rc != 0:
            raise KubeError(cmd.last_error)
        try:
            return json.loads(cmd.out)
        except ValueError as exc:
            raise KubeError(f"the API answered {path} with something that is not JSON") from exc


class KubeError(Exception):
    """kubectl failed; the message is its last line of stderr."""


def describe_http_error(exc: Exception, svc: Service, timeout: float) -> tuple[str, str]:
    """(detail, fix) for a failed HTTP call, naming what was tried and the next command to run."""
    import httpx

    where = f"{svc.url} (sent to 127.0.0.1:{svc.port})"
    logs = f"gitopslab logs {svc.key}"
    if isinstance(exc, httpx.ConnectError):
        return f"nothing answers at {where}: connection refused", f"start the lab: gitopslab up; then {logs}"
    if isinstance(exc, httpx.TimeoutException):
        return (f"{where} accepted the connection but did not answer within {timeout:.0f} s (hung)",
                f"{logs}; restart it with: gitopslab up")
    return f"{where}: {type(exc).__name__}: {exc}", logs
