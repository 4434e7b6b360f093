"""The container engine (Docker or Podman) through python-on-whales, which mirrors the CLI.

`detect()` picks the engine: the configured one, or (auto) the first of docker, podman whose daemon
answers. Failures become `EngineError` with the fix; python-on-whales is imported lazily.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitopslab.errors import EngineError

if TYPE_CHECKING:
    from python_on_whales import DockerClient

ENGINE_HINTS = {
    "docker": "start Docker (Docker Desktop, or `sudo systemctl start docker` on Linux) and run again",
    "podman": "start the Podman machine (`podman machine start`) or its socket, and run again",
}


@dataclass(frozen=True)
class EngineInfo:
    kind: str          # docker | podman
    cli: str           # path of the CLI
    server_version: str
    api_version: str
    os: str


def _probe(kind: str, timeout: float) -> EngineInfo | str:
    """EngineInfo when the engine answers, else the reason it does not."""
    cli = shutil.which(kind)
    if not cli:
        return f"`{kind}` is not on PATH"
    fmt = "{{json .}}"
    try:
        proc = subprocess.run([cli, "version", "--format", fmt], capture_output=True, text=True,
                              timeout=timeout, env=os.environ.copy())
    except subprocess.TimeoutExpired:
        return f"`{kind} version` did not answer within {timeout:.0f} s"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"{kind} does not answer: {last}"
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return f"{kind} printed no version data"
    server = data.get("Server") or {}
    if not server:
        return f"{kind} CLI found, but its engine does not answer"
    if kind == "podman":
        return EngineInfo(kind, cli, str(server.get("Version", "?")), str(server.get("APIVersion", "?")),
                          str(server.get("Os", "?")))
    return EngineInfo(kind, cli, str(server.get("Version", "?")), str(server.get("ApiVersion", "?")),
                      str(server.get("Os", "?")))


def detect(preference: str = "auto", timeout: float = 10.0) -> EngineInfo:
    kinds = ["docker", "podman"] if preference == "auto" else [preference]
    reasons = []
    for kind in kinds:
        found = _probe(kind, timeout)
        if isinstance(found, EngineInfo):
            return found
        reasons.append(found)
    hint = ENGINE_HINTS.get(preference, ENGINE_HINTS["docker"] + " (or Podman: " + ENGINE_HINTS["podman"] + ")")
    docker_host = os.environ.get("DOCKER_HOST")
    if docker_host:
        hint += f"; DOCKER_HOST is set to {docker_host}: check it points at a running engine"
    raise EngineError("no container engine answers: " + "; ".join(reasons), hint=hint)


def client(info: EngineInfo, compose_files: list[str] | None = None, project: str | None = None,
           env_file: str | None = None) -> DockerClient:
    from python_on_whales import DockerClient

    return DockerClient(
        client_call=[info.cli],
        compose_files=compose_files or [],
        compose_project_name=project,
        compose_env_files=[env_file] if env_file else [],
    )
