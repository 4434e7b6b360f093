"""What Podman does differently from Docker, for the engine driver (drivers/engine.py).

- A rootful Linux `podman` is its own engine: `podman version` prints only `Client` (no `Server`), so
  the engine's version is the client's. A remote client (a Podman machine on Windows or macOS, or
  `CONTAINER_HOST`) prints a `Server` as Docker does.
- Compose talks to Podman's Docker-compatible API service, a unix socket that is not always running:
  `api_socket()` finds it (DOCKER_HOST, else `podman info`'s remote socket) and says how to start it.
- `podman compose` exists only from Podman 4.7 (it runs docker-compose against that socket). On an
  older Podman, `compose_call()` runs the docker-compose binary itself (the docker-compose wheel in
  gitopslab's environment) as the plugin `docker compose` would run, with DOCKER_HOST set to the
  socket, so python-on-whales' `<call> compose ...` works unchanged.
- Image names without a registry: the podman CLI refuses to pull a short name (`short-name ... did not
  resolve to an alias and no unqualified-search registries are defined`) unless registries.conf lists
  search registries, where Docker pulls it from Docker Hub. `qualified()` names Docker Hub as Docker
  does; a local image is still found by its short name (Podman's local lookup tries docker.io).
- Rootless Podman publishes ports as the user: below net.ipv4.ip_unprivileged_port_start (1024 by
  default) the kernel refuses. `rootless_low_ports()` names the lab's ports that cannot be published.
- `podman network inspect` has its own shape (`subnets: [{subnet, gateway}]`, not Docker's IPAM.Config):
  `network_subnets()` reads it, so an existing lab network's subnet is compared, not taken for "none".
- `podman load` of an archive `docker save` wrote (names without a registry: `gitea/gitea:1.26.4`)
  names the images `localhost/gitea/gitea:1.26.4` (4.3); `loaded_as()` is that name, so `bundle load`
  can give each image the name the lab asks for.
- Podman runs a container's health check from a systemd timer. Without systemd (a container, WSL
  without systemd, CI) no check ever runs: the container stays `starting` for ever, so the lab's waits
  and compose's `depends_on: service_healthy` would never pass. `run_healthchecks()` runs the check
  once (`podman healthcheck run`), which records its result as the timer would; `health_timer()` does
  it every few seconds while compose runs, so its `depends_on: condition: service_healthy` can pass.
- Podman 4.3's compat API reports a container's NetworkID as the network's name (the network's own Id
  is hex), so Compose takes every lab network as changed and recreates the dependencies of the
  services it starts. Recreating Gitea under the Woodpecker step's feet left its published port
  silent in CI (the sign-in that follows timed out), so Woodpecker does not depend on Gitea in the
  compose file (`up` orders the steps), and the Woodpecker step waits until Gitea answers there too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from gitopslab.errors import EngineError

# The lowest port an unprivileged user may bind (Linux); rootless Podman publishes as that user.
UNPRIVILEGED_PORT_START = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")

# Where each kind of Podman keeps its API socket, and the command that starts it.
SOCKET_HINT = ("start Podman's API socket: `sudo systemctl enable --now podman.socket` (rootful), "
               "`systemctl --user enable --now podman.socket` (rootless), `podman machine start` "
               "(Windows, macOS), or `podman system service --time=0 unix:///run/podman/podman.sock &`; "
               "then run again")
# A remote podman (Windows, macOS) whose VM is stopped: its CLI cannot reach the machine's socket.
MACHINE_DOWN = "the Podman machine (or Podman's API service) is not running: {last}"
MACHINE_HINT = ("start the Podman machine: `podman machine start` (first time: `podman machine init`); "
                "`podman system connection list` shows which connection the CLI uses")
_MACHINE_MARKERS = ("unable to connect to podman", "cannot connect to podman", "podman machine start",
                    "is the podman machine running")
# The environment variable that makes docker-compose act as the `docker compose` plugin (compose v2's
# plugin.RunningStandalone()): then it takes the `compose` word python-on-whales puts first.
PLUGIN_MODE = "DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND"


def qualified(image: str) -> str:
    """`image` with Docker's default registry spelled out (nginx:1 -> docker.io/library/nginx:1)."""
    first, sep, rest = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return image
    return f"docker.io/{image}" if sep else f"docker.io/library/{image}"


def loaded_as(ref: str) -> str:
    """The name Podman gives `ref` when it loads it from a docker-save archive (Docker's familiar name
    under localhost/: docker.io/library/nginx:1 -> localhost/nginx:1)."""
    name = ref.removeprefix("docker.io/")
    name = name.removeprefix("library/") if name.count("/") == 1 else name
    return f"localhost/{name}"


def is_podman(client_call: list[str]) -> bool:
    """Whether a python-on-whales client runs the podman CLI."""
    return bool(client_call) and Path(str(client_call[0])).name.removesuffix(".exe") == "podman"


def machine_down(stderr: str) -> bool:
    """Whether a failed `podman version` says the CLI cannot reach its machine or service."""
    low = stderr.lower()
    return any(marker in low for marker in _MACHINE_MARKERS)


def version_fields(data: Mapping[str, object]) -> Mapping[str, object]:
    """The engine's version block: `Server` when the CLI is remote, else the local CLI's `Client`."""
    server = data.get("Server") or data.get("Client") or {}
    return server if isinstance(server, Mapping) else {}


def api_socket(cli: str, environ: Mapping[str, str] | None = None, timeout: float = 15) -> str:
    """The path of Podman's Docker-compatible API socket; EngineError with the way to start it."""
    env = os.environ if environ is None else environ
    host = env.get("DOCKER_HOST", "")
    where = f"DOCKER_HOST ({host})"
    if host and not host.startswith("unix://"):
        raise EngineError(f"DOCKER_HOST is {host}: gitopslab reaches Podman through a local unix socket only",
                          hint="set DOCKER_HOST=unix:///run/podman/podman.sock (rootful) or "
                               "unix://$XDG_RUNTIME_DIR/podman/podman.sock (rootless), or unset it")
    path = host.removeprefix("unix://")
    if not path:
        try:
            done = subprocess.run([cli, "info", "--format", "{{.Host.RemoteSocket.Path}}"], capture_output=True,
                                  text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineError(f"`podman info` did not answer: {exc}", hint=SOCKET_HINT) from exc
        path = done.stdout.strip().removeprefix("unix://") if done.returncode == 0 else ""
        where = "`podman info` (Host.RemoteSocket.Path)"
    if not path:
        raise EngineError("Podman names no API socket", hint=SOCKET_HINT)
    if not Path(path).exists():
        raise EngineError(f"Podman's API socket {path} (from {where}) is not running", hint=SOCKET_HINT)
    return path


def _compose_binary() -> str | None:
    """The docker-compose binary: beside this Python (the wheel gitopslab installs), else on PATH."""
    beside = Path(sys.executable).parent / "docker-compose"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("docker-compose")


def has_compose(cli: str, timeout: float = 30) -> bool:
    """Whether `podman compose` runs (Podman >= 4.7 with a compose provider installed)."""
    try:
        done = subprocess.run([cli, "compose", "version"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def compose_call(cli: str, socket: str) -> list[str]:
    """The command python-on-whales puts before `compose ...` to run Compose v2 against Podman."""
    if has_compose(cli):
        return [cli]
    binary = _compose_binary()
    env = shutil.which("env")
    if not binary or not env:
        raise EngineError("Compose v2 is missing for Podman: `podman compose` does not run (it needs Podman "
                          "4.7 or later) and no docker-compose binary was found",
                          hint="install gitopslab with pip (its docker-compose wheel), or Podman 4.7+ "
                               "with docker-compose on PATH")
    return [env, f"DOCKER_HOST=unix://{socket}", f"{PLUGIN_MODE}=docker", binary]


def run_healthchecks(cli: str, containers: list[str], timeout: float = 30) -> None:
    """Run each container's health check once; Podman stores the result (healthy, or a failure that
    counts toward `retries` after the start period). A check that cannot run is left to the caller's wait."""
    for name in containers:
        try:
            subprocess.run([cli, "healthcheck", "run", name], capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            continue


def rootless_low_ports(cli: str, ports: list[int], timeout: float = 15) -> tuple[int, list[int]]:
    """(the lowest port a user may bind, the ports below it) when Podman runs rootless on this Linux
    host; (0, []) when it runs as root, remotely (a machine), or the limit is unknown."""
    try:
        start = int(UNPRIVILEGED_PORT_START.read_text().strip())
    except (OSError, ValueError):
        return 0, []
    low = sorted(p for p in ports if p < start)
    if not low:
        return start, []
    try:
        done = subprocess.run([cli, "info", "--format", "{{.Host.Security.Rootless}}"], capture_output=True,
                              text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return 0, []
    return (start, low) if done.returncode == 0 and done.stdout.strip() == "true" else (start, [])


def network_subnets(cli: str, name: str, timeout: float = 30) -> list[str]:
    """The subnets of a Podman network, from Podman's own inspect shape; EngineError when it cannot."""
    try:
        done = subprocess.run([cli, "network", "inspect", "--format", "{{range .Subnets}}{{.Subnet}} {{end}}", name],
                              capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError(f"`podman network inspect {name}` did not answer: {exc}", hint=SOCKET_HINT) from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise EngineError(f"`podman network inspect {name}` failed: {last}",
                          hint="run again with --verbose; `gitopslab doctor` checks the engine")
    return done.stdout.split()


@contextlib.contextmanager
def health_timer(cli: str, label: str, every: float = 2.0) -> Iterator[None]:
    """While the block runs, run the health check of each container labelled `label` that is still
    `starting`, every `every` seconds: what Podman's systemd timer does where there is one."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(every):
            try:
                done = subprocess.run([cli, "ps", "--filter", f"label={label}", "--filter", "health=starting",
                                       "--format", "{{.Names}}"], capture_output=True, text=True, timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                continue
            run_healthchecks(cli, done.stdout.split())

    thread = threading.Thread(target=tick, name="podman-health-timer", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=35)
