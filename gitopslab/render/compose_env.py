"""The environment file the compose layer reads (compose/compose.yaml uses `${VAR}` from it)."""

from __future__ import annotations

from collections.abc import Mapping

from gitopslab.config import LabConfig
from gitopslab.topology import LABEL, Topology

# Secrets the compose layer needs at start; the rest of the lab's secrets stay out of its env.
COMPOSE_SECRETS = ("woodpecker_agent_secret", "woodpecker_gitea_client", "woodpecker_gitea_secret")


def values(cfg: LabConfig, topo: Topology, secrets: Mapping[str, str] | None = None) -> dict[str, str]:
    gitea, woodpecker, registry = (topo.service(k) for k in ("gitea", "woodpecker", "registry"))
    env = {
        "COMPOSE_PROJECT_NAME": topo.lab,
        "LAB_NAME": topo.lab,
        "LAB_LABEL": LABEL,
        "LAB_NETWORK": topo.network,
        "LAB_SUBNET": topo.subnet,
        "LAB_IP_RANGE": topo.dynamic_range,
        "LAB_GATEWAY": topo.gateway,
        "GITEA_IMAGE": cfg.image("gitea"),
        "GITEA_HOSTNAME": gitea.hostname,
        "GITEA_PORT": str(gitea.port),
        "GITEA_IP": gitea.ip or "",
        "GITEA_ROOT_URL": f"{gitea.url}/",
        "WEBHOOK_ALLOWED_HOSTS": ",".join([*topo.hostnames, "loopback", "private"]),
        "WOODPECKER_SERVER_IMAGE": cfg.image("woodpecker-server"),
        "WOODPECKER_AGENT_IMAGE": cfg.image("woodpecker-agent"),
        "WOODPECKER_HOSTNAME": woodpecker.hostname,
        "WOODPECKER_PORT": str(woodpecker.port),
        "WOODPECKER_IP": woodpecker.ip or "",
        "WOODPECKER_HOST": woodpecker.url,
        "WOODPECKER_ADMIN": cfg.admin_user,
        "REGISTRY_IMAGE": cfg.image("registry"),
        "REGISTRY_HOSTNAME": registry.hostname,
        "REGISTRY_PORT": str(registry.port),
        "REGISTRY_IP": registry.ip or "",
        "EDGE_IMAGE": cfg.image("edge"),
        "EDGE_IP": topo.edge_ip,
    }
    env |= {k.upper(): v for k, v in cfg.proxy.as_env().items() if k.isupper()}
    for name in COMPOSE_SECRETS:
        value = (secrets or {}).get(name)
        env[name.upper()] = value if value is not None else f"<secret:{name}>"
    return env


def render(cfg: LabConfig, topo: Topology, secrets: Mapping[str, str] | None = None) -> str:
    lines = ["# gitopslab compose environment (generated; do not edit: change gitopslab.yaml instead)"]
    for key, value in values(cfg, topo, secrets).items():
        # Compose env files take the value literally up to the end of the line; quote to keep '$' inert.
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        lines.append(f"{key}='{escaped}'")
    return "\n".join(lines) + "\n"
