"""The container engine (Docker or Podman) through python-on-whales, which mirrors the CLI.

`detect()` picks the engine: the configured one, or (auto) the first of docker, podman whose daemon
answers. `ComposeLab` drives one lab's compose project: up, down (keeps volumes), destroy (removes
only what carries the lab's label `io.gitopslab.lab=<lab>`), ps, logs. Every python-on-whales
`DockerException` is translated here, at the boundary, by `translate()` into a one-line `EngineError`
with its fix (engine down, compose missing, image missing, port taken, subnet taken), secrets redacted.
python-on-whales is imported lazily.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gitopslab.drivers import podman as _podman
from gitopslab.drivers import ports as _ports
from gitopslab.errors import EngineError, redact
from gitopslab.model.topology import LABEL
from gitopslab.model.versions import TOOLS

if TYPE_CHECKING:
    from python_on_whales import DockerClient

    from gitopslab.drivers.pull import PullProgress

T = TypeVar("T")
_log = logging.getLogger(__name__)

ENGINE_HINTS = {
    "docker": "start Docker (Docker Desktop, or `sudo systemctl start docker` on Linux) and run again",
    "podman": _podman.SOCKET_HINT,
}


@dataclass(frozen=True)
class EngineInfo:
    kind: str          # docker | podman
    cli: str           # path of the CLI
    server_version: str
    api_version: str
    os: str
    socket: str = ""   # Podman: the Docker-compatible API socket Compose and the Woodpecker agent use


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
        if kind == "podman" and _podman.machine_down(proc.stderr):
            return _podman.MACHINE_DOWN.format(last=last)
        return f"{kind} does not answer: {last}"
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return f"{kind} printed no version data"
    if kind == "podman":
        # A rootful Linux podman is its own engine and prints no `Server` (drivers/podman.py).
        server = _podman.version_fields(data)
        try:
            socket = _podman.api_socket(cli, timeout=timeout)
        except EngineError as exc:
            return exc.message
        return EngineInfo(kind, cli, str(server.get("Version", "?")), str(server.get("APIVersion", "?")),
                          str(server.get("Os", "?")), socket)
    server = data.get("Server") or {}
    if not server:
        return f"{kind} CLI found, but its engine does not answer"
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
    if preference == "podman" and any(r.startswith(_podman.MACHINE_DOWN[:30]) for r in reasons):
        hint = _podman.MACHINE_HINT
    docker_host = os.environ.get("DOCKER_HOST")
    if docker_host:
        hint += f"; DOCKER_HOST is set to {docker_host}: check it points at a running engine"
    raise EngineError("no container engine answers: " + "; ".join(reasons), hint=hint)


def client(info: EngineInfo, compose_files: list[str] | None = None, project: str | None = None,
           env_file: str | None = None) -> DockerClient:
    from python_on_whales import DockerClient

    files: list[str | Path] = list(compose_files or [])
    return DockerClient(
        client_call=[info.cli],
        compose_files=files,
        compose_project_name=project,
        compose_env_files=[env_file] if env_file else [],
    )


# --- errors: DockerException -> EngineError, one line + fix ---------------------------------------

COMPOSE_HINT = TOOLS["docker-compose"].install_hint
_PORT_RE = re.compile(r"(?:\d{1,3}(?:\.\d{1,3}){3}|\[::\]|::|localhost):(\d{1,5})\b[^\n]*?"
                      r"(?:port is already allocated|address already in use)", re.IGNORECASE)
_IMAGE_RE = re.compile(r"(?:pull access denied for|no such image:?|manifest for|image) ([\w./:@-]+)", re.IGNORECASE)
_IMAGE_MARKERS = ("pull access denied", "manifest unknown", "no such image", "repository does not exist",
                  "failed to resolve reference", "error pulling image", "not found: manifest")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def translate(exc: Exception, action: str, secrets: Iterable[str] = (), cli: str | None = None) -> EngineError:
    """The most specific one-line EngineError for a failed engine call; secret values are redacted."""
    secrets = list(secrets)
    text = "\n".join(filter(None, [getattr(exc, "stderr", None), getattr(exc, "stdout", None)])) or str(exc)
    low = text.lower()
    if "cannot connect to the docker daemon" in low or "is the docker daemon running" in low:
        return EngineError(f"{action}: the container engine does not answer", hint=ENGINE_HINTS["docker"])
    if "'compose' is not a docker command" in low or ("unknown command" in low and "compose" in low):
        return EngineError(f"{action}: Docker Compose v2 is missing (`docker compose` is unknown)",
                           hint=COMPOSE_HINT)
    port = _PORT_RE.search(text)
    if port or "port is already allocated" in low or "address already in use" in low:
        number = int(port.group(1)) if port else None
        who = _ports.describe(number, cli) if number else "another program"
        where = f"port {number}" if number else "a port"
        return EngineError(f"{action}: {where} on 127.0.0.1 is taken by {who}",
                           hint=f"stop {who}, or give the lab another port in gitopslab.yaml (ports:)")
    if any(marker in low for marker in _IMAGE_MARKERS):
        image = _IMAGE_RE.search(text)
        name = image.group(1).rstrip(",:") if image else "an image"
        return EngineError(f"{action}: image {name} is not available: {redact(_last_line(text), secrets)}",
                           hint="check the network/proxy and `docker pull` it, or set `images:` in gitopslab.yaml")
    if "pool overlaps" in low:
        return EngineError(f"{action}: the lab subnet overlaps another network on this engine",
                           hint="choose a free subnet in gitopslab.yaml (network.subnet), see `docker network ls`")
    return EngineError(f"{action} failed: {redact(_last_line(text), secrets)}",
                       hint="run again with --verbose; `gitopslab doctor` checks the engine")


@functools.lru_cache(maxsize=8)
def compose_call(info: EngineInfo) -> tuple[str, ...]:
    """What runs `compose ...`: the engine's CLI, or for a Podman without `podman compose` (< 4.7) the
    docker-compose binary against Podman's API socket (drivers/podman.py)."""
    if info.kind != "podman":
        return (info.cli,)
    return tuple(_podman.compose_call(info.cli, info.socket))


def ensure_compose(info: EngineInfo) -> str:
    """The Compose v2 version; EngineError with the install command when `<cli> compose` is missing."""
    try:
        proc = subprocess.run([*compose_call(info), "compose", "version", "--short"], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError(f"`{info.kind} compose version` did not run: {exc}", hint=COMPOSE_HINT) from exc
    if proc.returncode != 0:
        raise EngineError(f"Docker Compose v2 is missing (`{info.kind} compose`: {_last_line(proc.stderr)})",
                          hint=COMPOSE_HINT)
    return proc.stdout.strip()


# --- one lab's compose project ---------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    subnet: str
    ip_range: str
    gateway: str


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    container: str
    state: str          # running | exited | restarting | created | paused | dead
    health: str         # healthy | unhealthy | starting | none (no healthcheck)
    image: str
    ports: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state == "running" and self.health in ("healthy", "none")

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "container": self.container, "state": self.state,
                "health": self.health, "image": self.image, "ports": list(self.ports), "ok": self.ok}


@dataclass(frozen=True)
class Inventory:
    """What carries the lab's label: what `destroy` removes."""

    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.containers or self.volumes or self.networks)

    def as_dict(self) -> dict[str, list[str]]:
        return {"containers": self.containers, "volumes": self.volumes, "networks": self.networks}


class ComposeLab:
    """The compose project of one lab. Every engine failure surfaces as an EngineError."""

    PROFILES = ("ci", "cluster")  # all profiles active, so ps/down/logs see every service

    def __init__(self, info: EngineInfo, lab: str, compose_file: Path, env_file: Path,
                 secrets: Iterable[str] = (), pull: bool = True, mirrors: Mapping[str, str] | None = None,
                 on_pull: Callable[[PullProgress], None] | None = None) -> None:
        self.info, self.lab, self.compose_file, self.env_file = info, lab, compose_file, env_file
        self.on_pull = on_pull  # told bytes and an estimate while an image downloads (gitopslab.drivers.pull)
        self._socket: str | None = None  # the engine's API socket ("" when there is none)
        self.secrets = [s for s in secrets if s]
        self.pull = pull  # False offline: a missing image is an error, never a pull
        self.mirrors = dict(mirrors or {})  # upstream registry -> the room's pull-through mirror
        self.label = f"{LABEL}={lab}"

    @property
    def docker(self) -> DockerClient:
        from python_on_whales import DockerClient

        return DockerClient(client_call=[self.info.cli], compose_files=[self.compose_file],
                            compose_project_name=self.lab, compose_env_files=[self.env_file],
                            compose_profiles=list(self.PROFILES))

    @property
    def compose(self) -> Any:
        """python-on-whales' compose component, run by `compose_call` (Podman: see drivers/podman.py)."""
        from python_on_whales import DockerClient

        return DockerClient(client_call=list(compose_call(self.info)), compose_files=[self.compose_file],
                            compose_project_name=self.lab, compose_env_files=[self.env_file],
                            compose_profiles=list(self.PROFILES)).compose

    def _call(self, action: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        from python_on_whales.exceptions import DockerException

        try:
            return fn(*args, **kwargs)
        except DockerException as exc:
            raise translate(exc, action, self.secrets, self.info.cli) from exc

    # --- up --------------------------------------------------------------------------------------
    def up(self, services: Sequence[str], images: Mapping[str, str], host_ports: Mapping[str, Sequence[int]],
           network: NetworkSpec) -> None:
        """Start `services` (and their dependencies). Every check that can fail runs before anything
        is created, so a missing image or a taken port leaves nothing half-started."""
        ensure_compose(self.info)
        self._refuse_shadowed()
        self.require_images(images)
        running = {s.service for s in self.ps() if s.state == "running"}
        self.require_ports({svc: host_ports.get(svc, ()) for svc in services if svc not in running})
        self.ensure_network(network)
        timer = (_podman.health_timer(self.info.cli, self.label) if self.info.kind == "podman"
                 else contextlib.nullcontext())
        try:
            with timer:  # Podman without systemd: compose's service_healthy waits need it (drivers/podman.py)
                self._call(f"starting {', '.join(services)}", self.compose.up, list(services), detach=True,
                           pull="never", quiet=True)
        except EngineError:
            # A race the checks could not see (a port taken in between): leave nothing half-started.
            fresh = [svc for svc in services if svc not in running]
            if fresh:
                with contextlib.suppress(EngineError):  # the first error is the one to report
                    self._call("rolling back", self.compose.rm, fresh, stop=True)
            raise

    def _refuse_shadowed(self) -> None:
        """Compose lets the caller's environment win over the env file: refuse a silent override."""
        names = [line.split("=", 1)[0] for line in self.env_file.read_text().splitlines()
                 if "=" in line and not line.startswith("#")]
        shadowed = [n for n in names if n in os.environ and n != "COMPOSE_PROJECT_NAME"]
        if shadowed:
            raise EngineError(f"these variables in your environment would override the lab's settings: "
                              f"{', '.join(shadowed)}", hint=f"unset {' '.join(shadowed)} and run again")

    def require_images(self, images: Mapping[str, str]) -> None:
        """Each role's image is local, or is pulled now; a failure names the image and the role."""
        for role, image in images.items():
            if self._call("inspecting images", self.docker.image.exists, image):
                continue
            if not self.pull:
                raise EngineError(f"image {image} ({role}) is not in the engine, and the lab is offline",
                                  hint="load the bundle that holds it: `gitopslab bundle load FILE`")
            if self._pull_through_mirror(image):
                continue
            try:
                self._pull(image)
            except EngineError as exc:
                raise EngineError(f"image {image} ({role}) is not available locally and cannot be pulled: "
                                  f"{exc.message.split(': ', 1)[-1]}",
                                  hint=f"check the network/proxy and run `docker pull {image}`, "
                                       f"or set images.{role} in gitopslab.yaml") from exc

    def _pull_through_mirror(self, image: str) -> bool:
        """Pull `image` from its registry's room mirror and give it its own name; False (and a log line)
        when there is no mirror or it fails, so the caller pulls from upstream."""
        from gitopslab.model.mirrors import mirror_ref

        via = mirror_ref(image, self.mirrors)
        if via is None:
            return False
        try:
            self._pull(via)
            # Podman would name a short tag localhost/<name>; the compose file's name means Docker Hub.
            target = _podman.qualified(image) if self.info.kind == "podman" else image
            self._call(f"tagging {via}", self.docker.image.tag, via, target)
        except EngineError as exc:
            # An http mirror needs the engine's insecure-registries (docs/CLASSROOM.md); upstream is next.
            _log.warning("mirror pull of %s failed (%s); pulling from upstream", via, exc.message)
            return False
        return True

    def _pull(self, image: str) -> None:
        """Through the engine's API with byte counts when someone listens and a unix socket is there;
        else, or when that fails (a registry login only the CLI knows), through the CLI."""
        from gitopslab.drivers import pull

        if self.on_pull and self._socket is None:  # looked up once per lab, not per image
            self._socket = pull.socket_path(self.info.cli, self.info.kind) or ""
        socket = self._socket
        if socket and self.on_pull:
            try:
                pull.pull(socket, image, self.on_pull)
                return
            except EngineError as exc:
                _log.warning("pull of %s through the engine's API failed (%s); pulling with the CLI", image,
                             exc.message)
        # Podman's CLI refuses a short name where Docker pulls it from Docker Hub (drivers/podman.py).
        name = _podman.qualified(image) if self.info.kind == "podman" else image
        self._call(f"pulling {image}", self.docker.image.pull, name, quiet=True)

    def require_ports(self, host_ports: Mapping[str, Iterable[int]]) -> None:
        taken = [(svc, port) for svc, ports in host_ports.items() for port in ports if not _ports.is_free(port)]
        if taken:
            svc, port = taken[0]
            who = _ports.describe(port, self.info.cli)
            more = f" (also taken: {', '.join(str(p) for _, p in taken[1:])})" if taken[1:] else ""
            raise EngineError(f"port {port} on 127.0.0.1 (for {svc}) is taken by {who}{more}",
                              hint=f"stop {who}, or choose another port in gitopslab.yaml (ports:)")

    def ensure_network(self, spec: NetworkSpec) -> None:
        """The lab network with its fixed-address layout; outlives `down`, removed by `destroy`."""
        from python_on_whales.utils import run

        found = self._call("inspecting networks", self.docker.network.list, filters=[("name", spec.name)])
        existing = [n for n in found if n.name == spec.name]
        if existing:
            if self.info.kind == "podman":
                # Podman's own inspect shape (`subnets`), which python-on-whales' IPAM fields do not read.
                subnets = _podman.network_subnets(self.info.cli, spec.name)
            else:
                ipam = existing[0].ipam
                subnets = [str(c.get("Subnet")) for c in (ipam.config if ipam and ipam.config else [])]
            if spec.subnet not in subnets:
                raise EngineError(f"network {spec.name} exists with subnet {', '.join(subnets) or 'none'}, "
                                  f"not {spec.subnet}",
                                  hint=f"remove the old lab (`gitopslab destroy --yes --name {self.lab}`) "
                                       "or set network.subnet to match")
            return
        cmd = [self.info.cli, "network", "create", "--driver", "bridge", "--subnet", spec.subnet,
               "--ip-range", spec.ip_range, "--gateway", spec.gateway, "--label", self.label, spec.name]
        self._call(f"creating network {spec.name} ({spec.subnet})", run, cmd)

    # --- down / destroy --------------------------------------------------------------------------
    def down(self) -> None:
        """Remove the containers; keep the volumes (data) and the network (k3d refers to it)."""
        if not self.env_file.exists():
            for name in self.inventory().containers:
                self._call(f"stopping {name}", self.docker.container.remove, name, force=True)
            return
        self._call("stopping the compose layer", self.compose.down, timeout=20, quiet=True)

    def inventory(self) -> Inventory:
        flt = [("label", self.label)]
        containers = self._call("listing containers", self.docker.container.list, all=True, filters=flt)
        volumes = self._call("listing volumes", self.docker.volume.list, filters=flt)
        networks = self._call("listing networks", self.docker.network.list, filters=flt)
        return Inventory(sorted(c.name for c in containers), sorted(v.name for v in volumes),
                         sorted(n.name for n in networks))

    def destroy(self) -> Inventory:
        """Remove every container, volume and network labelled `io.gitopslab.lab=<lab>`, and nothing else
        but the pipeline steps this lab's Woodpecker agent started on the lab's network: Woodpecker labels
        them `wp_uuid`, not with ours, and a step still running would keep the network (seen on the real
        agent). They are listed once the agent is gone, so it starts none after; the workflow's own
        volume and network (`wp_<id>_default`, which only its steps use) go with them."""
        inv = self.inventory()
        for name in inv.containers:
            self._call(f"removing container {name}", self.docker.container.remove, name, force=True)
        found = {c.name: c for net in inv.networks for c in self._call(
            "listing pipeline steps", self.docker.container.list, all=True,
            filters=[("label", "wp_uuid"), ("network", net)])}
        step_volumes = sorted({str(m.name) for c in found.values() for m in c.mounts
                               if str(m.name or "").startswith("wp_")})
        step_networks = sorted({n for c in found.values() for n in (c.network_settings.networks or {})
                                if n.startswith("wp_")})
        for name in sorted(found):
            self._call(f"removing pipeline step {name}", self.docker.container.remove, name, force=True)
        # The loops below remove the steps' volumes and networks with the lab's (its networks first).
        inv = Inventory(sorted([*inv.containers, *found]), [*step_volumes, *inv.volumes],
                        [*step_networks, *inv.networks])
        for name in inv.volumes:
            self._call(f"removing volume {name}", self.docker.volume.remove, name)
        for name in inv.networks:
            attached = self._call("inspecting networks", self.docker.network.inspect, name).containers or {}
            if attached:
                others = sorted(getattr(c, "name", str(k)) for k, c in attached.items())
                raise EngineError(f"network {name} is still used by containers that are not this lab's: "
                                  f"{', '.join(others)}",
                                  hint=f"disconnect them (docker network disconnect -f {name} CONTAINER) "
                                       "and run destroy again")
            self._call(f"removing network {name}", self.docker.network.remove, name)
        return inv

    # --- ps / logs -------------------------------------------------------------------------------
    def ps(self) -> list[ServiceStatus]:
        flt = [("label", self.label), ("label", f"com.docker.compose.project={self.lab}")]
        containers = self._call("listing containers", self.docker.container.list, all=True, filters=flt)
        found = sorted((_status(c) for c in containers), key=lambda s: s.service)
        waiting = [s.container for s in found if s.state == "running" and s.health == "starting"]
        if self.info.kind == "podman" and waiting:
            _podman.run_healthchecks(self.info.cli, waiting)
            containers = self._call("listing containers", self.docker.container.list, all=True, filters=flt)
            found = sorted((_status(c) for c in containers), key=lambda s: s.service)
        return found

    def _require_env(self) -> None:
        if not self.env_file.exists():
            raise EngineError(f"lab {self.lab} has not been started on this machine (no {self.env_file})",
                              hint=f"gitopslab up --name {self.lab}")

    def logs(self, services: Sequence[str] = (), tail: int | None = 200) -> str:
        self._require_env()
        return self._call("reading logs", self.compose.logs, list(services),
                          tail=None if tail is None else str(tail))

    def follow_logs(self, services: Sequence[str] = ()) -> Iterator[str]:
        self._require_env()
        stream = self._call("reading logs", self.compose.logs, list(services), follow=True,
                            stream=True, tail="50")
        for _source, chunk in stream:
            yield chunk.decode(errors="replace")

    def container_logs(self, container: str, tail: int = 30) -> str:
        """The last lines of one container's output (for wait timeouts); empty when it is gone."""
        from python_on_whales.exceptions import DockerException

        try:
            return redact(str(self.docker.container.logs(container, tail=tail)), self.secrets)
        except DockerException:
            return ""


def _status(container: Any) -> ServiceStatus:
    state = container.state
    health = state.health.status if state.health and state.health.status else "none"
    ports = []
    for cport, binds in (container.network_settings.ports or {}).items():
        for bind in binds or []:
            ports.append(f"{bind.get('HostIp', '')}:{bind.get('HostPort', '')}->{cport}")
    return ServiceStatus(service=container.config.labels.get("com.docker.compose.service", container.name),
                         container=container.name, state=str(state.status), health=str(health),
                         image=str(container.config.image), ports=tuple(sorted(ports)))
