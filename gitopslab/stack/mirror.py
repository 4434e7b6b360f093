"""Pull-through mirrors for a room (`gitopslab mirror up` on the instructor's machine): one container
of the lab's pinned registry (distribution) in proxy mode per upstream registry, each with its own
cache volume. Participants' labs pull through them (`mirrors:` in gitopslab.yaml): compose pulls
(engine.ComposeLab), the k3d nodes (k3s registries.yaml) and hence everything the cluster runs.

Containers and volumes carry the label `io.gitopslab.mirror=<registry>`; nothing else is touched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gitopslab import wait
from gitopslab.errors import EngineError, UsageError, redact
from gitopslab.model.mirrors import UPSTREAMS

LABEL_KEY = "io.gitopslab.mirror"
FIRST_PORT = 5101


@dataclass(frozen=True)
class Mirror:
    registry: str   # the upstream registry host it mirrors (docker.io, ...)
    upstream: str   # where it fetches from
    port: int       # published on the host

    @property
    def container(self) -> str:
        return f"gitopslab-mirror-{self.registry.replace('.', '-')}"

    @property
    def volume(self) -> str:
        return f"{self.container}-cache"


def plan(first_port: int = FIRST_PORT, only: Iterable[str] = (), upstreams: Mapping[str, str] | None = None
         ) -> list[Mirror]:
    """One mirror per upstream registry (or per `only`), on consecutive ports from `first_port`."""
    wanted = list(only) or list(UPSTREAMS)
    unknown = [r for r in [*wanted, *(upstreams or {})] if r not in UPSTREAMS]
    if unknown:
        raise UsageError(f"no mirror for {', '.join(unknown)}: mirrors exist for {', '.join(UPSTREAMS)}",
                         hint="name one of those registries")
    sources = UPSTREAMS | dict(upstreams or {})
    return [Mirror(reg, sources[reg], first_port + i) for i, reg in enumerate(wanted)]


def _running(docker: Any, name: str) -> dict[str, Any] | None:
    if not docker.container.exists(name):
        return None
    c = docker.container.inspect(name)
    return {"running": bool(c.state.running), "env": list(c.config.env or []),
            "ports": c.host_config.port_bindings or {}}


def ensure(docker: Any, mirrors: list[Mirror], image: str, address: str, timeout: float,
           room_mirrors: Mapping[str, str] | None = None) -> list[str]:
    """Start each mirror that is not running as planned; wait until each answers /v2/. Idempotent.

    The registry image is made present before anything is changed: offline, a missing image is an
    EngineError naming it and the fix, and no container or volume is touched. Whatever this call
    creates (containers, cache volumes) is removed again when a later start fails; a cache volume
    that was already there stays (it may hold a room's cache)."""
    done, todo = [], []
    for m in mirrors:
        seen = _running(docker, m.container)
        # The address counts as much as the port: a mirror left on 0.0.0.0 (an older run, a room's
        # `--address 0.0.0.0`) is re-created on the address asked for now, 127.0.0.1 by default.
        bound = [(getattr(b, "host_ip", None) or "0.0.0.0", getattr(b, "host_port", None))
                 for b in (seen or {}).get("ports", {}).get("5000/tcp") or []]
        env = f"REGISTRY_PROXY_REMOTEURL={m.upstream}"
        if seen and seen["running"] and env in seen["env"] and bound == [(address or "0.0.0.0", str(m.port))]:
            done.append(f"{m.registry}: running on port {m.port}")
        else:
            todo.append((m, seen is not None))
    if todo:
        require_image(docker, image, room_mirrors or {})
    created: list[tuple[str, str]] = []  # ("container" | "volume", name), in the order made
    try:
        for m, replace in todo:
            _start(docker, m, image, address, replace, created)
            done.append(f"{m.registry}: started on port {m.port} (from {m.upstream})")
    except BaseException:  # Ctrl-C included: what this call made goes again
        _undo(docker, created)
        raise
    for m in mirrors:
        _wait(docker, m, address, timeout)
    return done


def _start(docker: Any, m: Mirror, image: str, address: str, replace: bool, created: list[tuple[str, str]]) -> None:
    from python_on_whales.exceptions import DockerException

    from gitopslab.drivers.engine import translate

    try:
        if replace:
            docker.container.remove(m.container, force=True)
        if not docker.volume.exists(m.volume):
            docker.volume.create(m.volume, labels={LABEL_KEY: m.registry})  # the label lets `down` find it
            created.append(("volume", m.volume))
        # `docker run` makes the container before it starts it: a failed start (a port taken) leaves it.
        created.append(("container", m.container))
        docker.run(image, detach=True, name=m.container, restart="unless-stopped",
                   envs={"REGISTRY_PROXY_REMOTEURL": m.upstream}, labels={LABEL_KEY: m.registry},
                   publish=[(f"{address}:{m.port}", 5000)], volumes=[(m.volume, "/var/lib/registry")])
    except DockerException as exc:
        raise translate(exc, f"starting the {m.registry} mirror ({m.container})") from exc


def _undo(docker: Any, created: list[tuple[str, str]]) -> None:
    """Remove what this `mirror up` made, newest first (the container holds its volume)."""
    for kind, name in reversed(created):
        with contextlib.suppress(Exception):  # best effort: the original error is the one to tell
            if kind == "container":
                if docker.container.exists(name):
                    docker.container.remove(name, force=True)
            else:
                docker.volume.remove(name)


def require_image(docker: Any, image: str, room_mirrors: Mapping[str, str]) -> None:
    """The mirrors' program is in the engine, or pulled now (through the room's mirror of its registry
    first, where gitopslab.yaml names one); else an EngineError naming the image and the fixes."""
    from python_on_whales.exceptions import DockerException

    from gitopslab.model.mirrors import mirror_ref, split_ref

    try:
        if docker.image.exists(image):
            return
    except DockerException as exc:
        from gitopslab.drivers.engine import translate

        raise translate(exc, f"looking for image {image}") from exc
    via = mirror_ref(image, room_mirrors)
    tried = []
    for ref in ([via] if via else []) + [image]:
        try:
            docker.image.pull(ref, quiet=True)
            if ref != image:
                docker.image.tag(ref, image)
            return
        except DockerException as exc:
            said = "\n".join(filter(None, [exc.stderr, exc.stdout])).strip().splitlines()
            tried.append(f"{ref}: {redact(said[-1] if said else 'no output')}")
    registry = split_ref(image)[0]
    room = (f"; or name a room mirror of {registry} that has it in gitopslab.yaml "
            f"(mirrors.{registry.replace('.', '_')})" if registry in UPSTREAMS and not via else "")
    raise EngineError(
        f"mirror up: the mirrors' image {image} is not in the engine and cannot be pulled "
        f"({'; '.join(tried)}); nothing was changed",
        hint=f"offline, load the room's bundle first: `gitopslab bundle load FILE.tgz` (a bundle carries {image}){room}; "
             f"or set images.registry in gitopslab.yaml to an image this engine has")


def _wait(docker: Any, m: Mirror, address: str, timeout: float) -> None:
    import httpx

    host = "127.0.0.1" if address in ("0.0.0.0", "") else address
    url = f"http://{host}:{m.port}/v2/"

    def probe() -> tuple[bool, str]:
        answer = httpx.get(url, timeout=5)
        return answer.status_code == 200, f"GET {url} answered {answer.status_code}"

    wait.until(probe, component=f"mirror {m.registry}", awaited=f"GET {url} answering 200", timeout=timeout,
               interval=0.5, next_command=f"docker logs {m.container}; then `gitopslab mirror up` again",
               logs=lambda: str(docker.container.logs(m.container, tail=20)), transient=(httpx.HTTPError,))


def remove(docker: Any, drop_cache: bool = False) -> list[str]:
    """Remove every mirror container (and with `drop_cache` their cache volumes)."""
    gone = []
    for name in [c.name for c in docker.container.list(all=True, filters=[("label", LABEL_KEY)])]:
        docker.container.remove(name, force=True)
        gone.append(f"container {name}")
    if drop_cache:
        for v in docker.volume.list(filters=[("label", LABEL_KEY)]):
            with contextlib.suppress(Exception):  # a volume still in use elsewhere stays, and is listed
                docker.volume.remove(v.name)
                gone.append(f"volume {v.name}")
    return gone


def running(docker: Any) -> list[tuple[str, str, str]]:
    """(registry, container, state) of each mirror container."""
    return [(c.config.labels.get(LABEL_KEY, "?"), c.name, c.state.status)
            for c in docker.container.list(all=True, filters=[("label", LABEL_KEY)])]


def participants_config(mirrors: list[Mirror], advertise: str) -> str:
    """The `mirrors:` block participants put in gitopslab.yaml."""
    keys = {"docker.io": "docker_io", "quay.io": "quay_io", "ghcr.io": "ghcr_io",
            "registry.k8s.io": "registry_k8s_io", "nvcr.io": "nvcr_io"}
    lines = ["mirrors:"] + [f"  {keys[m.registry]}: http://{advertise}:{m.port}" for m in mirrors]
    return "\n".join(lines) + "\n"
