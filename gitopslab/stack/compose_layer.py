"""The compose layer: Gitea, the registry, Woodpecker (server + agent) and the edge forwarder,
run by Docker Compose from compose/compose.yaml with the env file rendered into the state dir.

For the orchestrator (`gitopslab up`), `steps(ctx)` returns, in order:

    compose.core        Gitea + registry: started first, healthy, answering on 127.0.0.1
    compose.woodpecker  Woodpecker server + agent; needs `woodpecker_gitea_client` and
                        `woodpecker_gitea_secret` in the lab's state (the Gitea seeding step puts them
                        there), so it runs AFTER seeding; it refuses with a hint when they are missing

`edge_step()` (profile `cluster`) is for the cluster layer, to run once the k3d node exists.
`status(ctx)`, `down(ctx)`, `inventory(ctx)`, `destroy(ctx)` and `lab(ctx)` serve the verbs.
Each step's `done(ctx)` changes nothing; `apply(ctx)` re-renders the env file (0600, real secrets),
starts the step's services and waits until each is healthy (one bounded wait per service).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitopslab import wait
from gitopslab.drivers.engine import ComposeLab, Inventory, NetworkSpec, ServiceStatus
from gitopslab.errors import LabError
from gitopslab.files import write_private
from gitopslab.model.components import COMPONENTS, CORE, EDGE, EXPECTED, ONE_SHOT, WOODPECKER
from gitopslab.render import compose_env, names
from gitopslab.resources import content_path

if TYPE_CHECKING:
    from gitopslab.context import Context
    from gitopslab.stack.step import Step

OAUTH_SECRETS = ("woodpecker_gitea_client", "woodpecker_gitea_secret")


# --- files ---------------------------------------------------------------------------------------
def compose_file() -> Path:
    """compose/compose.yaml, found by gitopslab/resources.py."""
    return content_path("compose") / "compose.yaml"


def env_file(ctx: Context) -> Path:
    return ctx.state.dir / "compose" / "lab.env"


def edge_config_file(ctx: Context) -> Path:
    return ctx.state.dir / "edge" / "nginx.conf"


def _docker_socket(ctx: Context) -> str:
    """The engine's API socket on the host, mounted into the Woodpecker agent as /var/run/docker.sock.
    Podman's is its own API service's (/run/podman/podman.sock rootful, found when the engine is detected)."""
    if ctx.cfg.engine == "podman" or (ctx.cfg.engine == "auto" and ctx.engine().kind == "podman"):
        return ctx.engine().socket
    host = os.environ.get("DOCKER_HOST", "")
    return host.removeprefix("unix://") if host.startswith("unix://") else "/var/run/docker.sock"


def rendered_env(ctx: Context) -> str:
    secrets = ctx.state.secrets()
    wanted = {k: secrets[k] for k in compose_env.COMPOSE_SECRETS if k in secrets}
    return compose_env.render(ctx.cfg, ctx.topo, wanted, str(edge_config_file(ctx)), _docker_socket(ctx))


def write_files(ctx: Context) -> None:
    """The env file (real secrets: mode 0600) and the edge config, in the lab's state dir."""
    env, env_text = env_file(ctx), rendered_env(ctx)
    edge, edge_text = edge_config_file(ctx), names.render_edge(ctx.topo)
    for path in (env, edge):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not env.exists() or env.read_text() != env_text:
        write_private(env, env_text)  # atomic, and 0600 before a secret is in it
    os.chmod(env, 0o600)
    # The edge config is bind-mounted into the edge container as a single file: it is rewritten in
    # place (same inode), because a rename would leave the running container on the old one.
    if not edge.exists() or edge.read_text() != edge_text:
        fd = os.open(edge, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(edge_text)
    os.chmod(edge, 0o644)


def files_current(ctx: Context) -> bool:
    path = env_file(ctx)
    return path.exists() and path.read_text() == rendered_env(ctx)


# --- engine --------------------------------------------------------------------------------------
def lab(ctx: Context) -> ComposeLab:
    """This lab's compose project (the engine is detected once per context)."""
    info = ctx.engine()
    # Known secrets are redacted from engine errors; reading them must not create a state dir (status).
    known = ctx.state.secrets().values() if ctx.state.secrets_file.exists() else ()
    return ComposeLab(info, ctx.topo.lab, compose_file(), env_file(ctx), known, pull=not ctx.cfg.offline,
                      mirrors=ctx.cfg.mirrors.registries(), on_pull=ctx.progress)


def network_spec(ctx: Context) -> NetworkSpec:
    topo = ctx.topo
    return NetworkSpec(topo.network, topo.subnet, topo.dynamic_range, topo.gateway)


def service_images(ctx: Context, services: tuple[str, ...]) -> dict[str, str]:
    roles = [r for svc in services for r in (COMPONENTS[svc][1], *COMPONENTS[svc][2])]
    return {role: ctx.cfg.image(role) for role in dict.fromkeys(roles)}


def _host_ports(ctx: Context, services: tuple[str, ...]) -> dict[str, list[int]]:
    keys = {svc: COMPONENTS[svc][0] for svc in services}
    return {svc: [ctx.topo.service(key).port] for svc, key in keys.items() if key}


# --- readiness -----------------------------------------------------------------------------------
def _probe(ctx: Context, compose_lab: ComposeLab, service: str) -> wait.Probe:
    key = COMPONENTS[service][0]
    svc = ctx.topo.service(key) if key else None

    def probe() -> tuple[bool, str]:
        from gitopslab.clients import loopback  # httpx only when a lab is waited for

        found = {s.service: s for s in compose_lab.ps()}.get(service)
        if found is None:
            return False, "no container"
        if found.state != "running":
            return False, f"container {found.state}"
        if found.health not in ("healthy", "none"):
            return False, f"container running, health {found.health}"
        if svc is None:
            return True, "container healthy"
        # From the host through the published port, never through the host's resolver (DESIGN 1).
        answer = loopback.request(svc, timeout=ctx.cfg.timeouts.http)
        if not answer.is_success:
            return False, f"GET {svc.url}{svc.health_path} answered {answer.status_code}"
        return True, f"GET {svc.url}{svc.health_path} answered {answer.status_code}"

    return probe


def wait_ready(ctx: Context, compose_lab: ComposeLab, services: tuple[str, ...]) -> None:
    import httpx

    for service in services:
        container = f"{ctx.topo.lab}-{service}"
        wait.until(
            _probe(ctx, compose_lab, service),
            component=service,
            awaited="a running, healthy container answering its health URL",
            timeout=ctx.cfg.timeouts.service_ready,
            interval=ctx.cfg.timeouts.poll_interval,
            next_command=f"gitopslab logs {service} --name {ctx.topo.lab}; then `gitopslab up` again",
            logs=functools.partial(compose_lab.container_logs, container),
            transient=(httpx.HTTPError,),
        )


def ready(ctx: Context, services: tuple[str, ...]) -> bool:
    """True when every service is running and healthy (no waiting, no changes)."""
    current = {s.service: s for s in lab(ctx).ps()}
    return all(current.get(svc) is not None and current[svc].ok for svc in services)


# --- steps ---------------------------------------------------------------------------------------
@dataclass
class ComposeServicesStep:
    """Ensure some compose services are up and healthy with the current settings."""

    name: str
    title: str
    services: tuple[str, ...]
    needs_secrets: tuple[str, ...] = ()
    # Services compose may recreate on the way (depends_on): Podman 4.3's compat API makes Compose
    # recreate Gitea when the Woodpecker step runs (drivers/podman.py), and the next step signs in to
    # Gitea through its published port, so the step is ready only when they answer there again.
    depends_on: tuple[str, ...] = ()

    @property
    def awaited(self) -> tuple[str, ...]:
        return (*self.depends_on, *self.services)

    def done(self, ctx: Context) -> bool:
        return files_current(ctx) and ready(ctx, self.awaited)

    def apply(self, ctx: Context) -> None:
        missing = [name for name in self.needs_secrets if not ctx.state.secrets().get(name)]
        if missing:
            raise LabError(f"{self.title}: {', '.join(missing)} not in the lab's state yet "
                           "(the Gitea seeding step creates the Woodpecker OAuth application)",
                           hint="run `gitopslab up`: it seeds Gitea before starting Woodpecker")
        write_files(ctx)
        compose_lab = lab(ctx)
        compose_lab.up(self.services, service_images(ctx, self.services), _host_ports(ctx, self.services),
                       network_spec(ctx))
        wait_ready(ctx, compose_lab, self.awaited)


def core_step() -> ComposeServicesStep:
    return ComposeServicesStep("compose.core", "Gitea and the registry", CORE)


def woodpecker_step() -> ComposeServicesStep:
    return ComposeServicesStep("compose.woodpecker", "Woodpecker server and agent", WOODPECKER, OAUTH_SECRETS,
                               depends_on=CORE)


def edge_step() -> ComposeServicesStep:
    """For the cluster layer: start the edge once the k3d node is on the lab network."""
    return ComposeServicesStep("compose.edge", "edge forwarder for cluster services", EDGE)


def steps(ctx: Context) -> list[Step]:
    """The compose layer's steps in order. `up` runs core first, the Gitea seeding, then woodpecker."""
    return [core_step(), woodpecker_step()]


# --- verbs ---------------------------------------------------------------------------------------
def status(ctx: Context) -> list[ServiceStatus]:
    """Every expected service (absent ones too) and the edge when it exists; one-shots left out."""
    current = {s.service: s for s in lab(ctx).ps() if s.service not in ONE_SHOT}
    names = list(EXPECTED) + [svc for svc in current if svc not in EXPECTED]
    return [current.get(svc) or ServiceStatus(svc, f"{ctx.topo.lab}-{svc}", "absent", "none",
                                              ctx.cfg.image(COMPONENTS.get(svc, (None, svc, ()))[1]))
            for svc in names]


def down(ctx: Context) -> None:
    lab(ctx).down()


def inventory(ctx: Context) -> Inventory:
    return lab(ctx).inventory()


def destroy(ctx: Context) -> Inventory:
    removed = lab(ctx).destroy()
    ctx.state.reset_journal()
    return removed
