"""The environment file the compose layer reads (compose/compose.yaml uses `${VAR}` from it).

Secrets are placeholders (`<secret:NAME>`) unless given; `up` renders the real file into the state dir
(mode 0600). Proxy settings travel as LAB_*_PROXY so a proxy set in the caller's shell never
silently replaces the lab's own (compose lets shell variables win over the env file).
"""

from __future__ import annotations

from collections.abc import Mapping

from gitopslab.model.config import LabConfig
from gitopslab.model.mirrors import pip_env
from gitopslab.model.topology import LABEL, Topology
from gitopslab.render.git_env import woodpecker_environment
from gitopslab.render.pipelines import pip_index
from gitopslab.render.proxy import proxy_env

# Secrets the compose layer needs at start; the rest of the lab's secrets stay out of its env.
COMPOSE_SECRETS = ("woodpecker_agent_secret", "woodpecker_gitea_client", "woodpecker_gitea_secret")
# Names the edge forwarder answers to inside the lab network (cluster services; config.Hostnames fields).
EDGE_ALIAS_FIELDS = ("argocd", "hello_api", "mlflow", "minio", "dashboard", "grafana", "prometheus",
                     "alertmanager", "hello_api_prd", "kube_api_prd")
# Default path of the edge's nginx config, relative to the render output (`up` passes the state file).
EDGE_CONFIG_DEFAULT = "../edge/nginx.conf"


def _proxy(cfg: LabConfig, topo: Topology) -> dict[str, str]:
    env = proxy_env(cfg, topo)
    if not env:
        return {}
    return {"LAB_HTTP_PROXY": env.get("HTTP_PROXY", ""), "LAB_HTTPS_PROXY": env.get("HTTPS_PROXY", ""),
            "LAB_NO_PROXY": env["NO_PROXY"]}


def values(cfg: LabConfig, topo: Topology, secrets: Mapping[str, str] | None = None,
           edge_config: str = EDGE_CONFIG_DEFAULT, docker_socket: str = "/var/run/docker.sock") -> dict[str, str]:
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
        "GITEA_URL": gitea.url,
        "GITEA_ROOT_URL": f"{gitea.url}/",
        "WEBHOOK_ALLOWED_HOSTS": ",".join([*topo.hostnames, "loopback", "private"]),
        "WOODPECKER_SERVER_IMAGE": cfg.image("woodpecker-server"),
        "WOODPECKER_AGENT_IMAGE": cfg.image("woodpecker-agent"),
        "CLONE_IMAGE": cfg.image("clone"),
        "WOODPECKER_HOSTNAME": woodpecker.hostname,
        "WOODPECKER_PORT": str(woodpecker.port),
        "WOODPECKER_IP": woodpecker.ip or "",
        "WOODPECKER_HOST": woodpecker.url,
        "WOODPECKER_ADMIN": cfg.admin_user,
        "WOODPECKER_ENVIRONMENT": woodpecker_environment(topo, pip_env(pip_index(cfg, topo)) | _offline_env(cfg)),
        "DOCKER_SOCKET": docker_socket,
        "REGISTRY_IMAGE": cfg.image("registry"),
        "REGISTRY_HOSTNAME": registry.hostname,
        "REGISTRY_PORT": str(registry.port),
        "REGISTRY_IP": registry.ip or "",
        "EDGE_IMAGE": cfg.image("edge"),
        "EDGE_IP": topo.edge_ip,
        "EDGE_CONFIG": edge_config,
    }
    for field in EDGE_ALIAS_FIELDS:
        env[f"{field.upper()}_HOSTNAME"] = getattr(cfg.hostnames, field)
    env |= _proxy(cfg, topo)
    for name in COMPOSE_SECRETS:
        value = (secrets or {}).get(name)
        env[name.upper()] = value if value is not None else f"<secret:{name}>"
    return env


def render(cfg: LabConfig, topo: Topology, secrets: Mapping[str, str] | None = None,
           edge_config: str = EDGE_CONFIG_DEFAULT, docker_socket: str = "/var/run/docker.sock") -> str:
    lines = ["# gitopslab compose environment (generated; do not edit: change gitopslab.yaml instead)"]
    for key, value in values(cfg, topo, secrets, edge_config, docker_socket).items():
        # Compose env files take the value literally up to the end of the line; quote to keep '$' inert.
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        lines.append(f"{key}='{escaped}'")
    return "\n".join(lines) + "\n"


def _offline_env(cfg: LabConfig) -> dict[str, str]:
    """Offline, trivy cannot fetch its vulnerability DB (bundles do not carry it): the scan step then
    scans for secrets and misconfigurations only and says so in its log (scripts/ci/scan.sh)."""
    return {"SCAN_OFFLINE": "1"} if cfg.offline else {}
