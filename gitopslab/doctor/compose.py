"""Compose layer checks: the lab's containers run and are healthy, and each service answers on its
own health endpoint (Gitea /api/healthz and /api/v1/version, Woodpecker /healthz at the root,
registry /v2/)."""

from __future__ import annotations

from dataclasses import dataclass

from gitopslab.doctor.probe import Probe, describe_http_error
from gitopslab.doctor.result import CheckResult, fail, ok, warn
from gitopslab.doctor.runner import Check

G = "Compose"
# Compose services of the lab (compose/ names them so) -> the topology service they serve, if any.
SERVICES: dict[str, str | None] = {
    "gitea": "gitea",
    "woodpecker-server": "woodpecker",
    "woodpecker-agent": None,
    "registry": "registry",
}


@dataclass(frozen=True)
class Container:
    name: str
    state: str      # running, exited, ...
    status: str     # "Up 5 minutes (healthy)"
    labels: dict[str, str]

    @property
    def service(self) -> str:
        return self.labels.get("com.docker.compose.service", "")


def _parse_labels(text: str) -> dict[str, str]:
    out = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        if key:
            out[key.strip()] = value
    return out


def lab_containers(p: Probe) -> list[Container]:
    """Every container of this lab (running or not), by label; one engine call per doctor run."""

    def load() -> list[Container]:
        # An explicit template: `{{json .}}` would make the engine compute container sizes (slow).
        cmd = p.docker("ps", "-a", "--filter", f"label=io.gitopslab.lab={p.cfg.name}",
                       "--format", "{{.Names}}\t{{.State}}\t{{.Status}}\t{{.Labels}}")
        if cmd.rc != 0:
            raise RuntimeError(f"`{p.engine_name} ps` failed: {cmd.last_error}")
        rows = [line.split("\t", 3) for line in cmd.out.splitlines() if line.count("\t") >= 3]
        return [Container(n, st, stat, _parse_labels(lab)) for n, st, stat, lab in rows]

    return p.once("lab-containers", load)


def project(p: Probe) -> CheckResult:
    try:
        found = lab_containers(p)
    except RuntimeError as exc:
        return fail(G, "project", str(exc), "check the engine: docker info")
    if not found:
        return fail(G, "project", f"no container of lab {p.cfg.name!r} exists: the compose layer is not up",
                    "gitopslab up")
    running = sum(c.state == "running" for c in found)
    return ok(G, "project", f"{len(found)} containers of lab {p.cfg.name!r}, {running} running")


def _container_check(service: str):  # noqa: ANN202 - a closure per compose service
    def check(p: Probe) -> CheckResult:
        name = f"container:{service}"
        mine = [c for c in lab_containers(p) if c.service == service]
        if not mine:
            return fail(G, name, f"no {service} container in lab {p.cfg.name!r}", "gitopslab up")
        c = mine[0]
        if c.state != "running":
            return fail(G, name, f"{c.name} is {c.state} ({c.status})",
                        f"gitopslab logs {service}; then gitopslab up to start it again")
        if "(unhealthy)" in c.status:
            return fail(G, name, f"{c.name} runs but its healthcheck fails ({c.status})",
                        f"gitopslab logs {service}; docker inspect --format '{{{{json .State.Health}}}}' {c.name}")
        if "health: starting" in c.status:
            return warn(G, name, f"{c.name} is still starting ({c.status})", "wait a minute and run doctor again")
        return ok(G, name, f"{c.name}: {c.status}")

    return check


def network(p: Probe) -> CheckResult:
    net = p.topo.network
    cmd = p.docker("network", "inspect", "--format", "{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}}", net)
    if cmd.rc != 0:
        return fail(G, "network", f"the lab network {net!r} does not exist", "gitopslab up")
    return ok(G, "network", f"network {cmd.out.strip()}")


def _get(p: Probe, key: str, path: str, name: str, want: tuple[int, ...]) -> tuple[CheckResult | None, object]:
    svc = p.topo.service(key)
    try:
        resp = p.http(svc, path)
    except Exception as exc:  # httpx errors: described with what was tried
        detail, fix = describe_http_error(exc, svc, p.timeout)
        return fail(G, name, detail, fix), None
    if resp.status_code not in want:
        return fail(G, name, f"{svc.url}{path} answered HTTP {resp.status_code}: {resp.text[:120].strip()}",
                    f"gitopslab logs {key}"), None
    return None, resp


def gitea(p: Probe) -> CheckResult:
    bad, resp = _get(p, "gitea", "/api/healthz", "gitea", (200,))
    if bad:
        return bad
    try:
        status = resp.json().get("status")  # type: ignore[attr-defined]
    except ValueError:
        status = None
    if status not in ("pass", "warn"):
        return fail(G, "gitea", f"/api/healthz says {str(resp.text)[:120]!r}", "gitopslab logs gitea")  # type: ignore[attr-defined]
    return ok(G, "gitea", f"{p.topo.service('gitea').url}/api/healthz: {status}")


def gitea_api(p: Probe) -> CheckResult:
    bad, resp = _get(p, "gitea", "/api/v1/version", "gitea-api", (200,))
    if bad:
        return bad
    try:
        version = resp.json()["version"]  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError):
        return fail(G, "gitea-api", "/api/v1/version did not return Gitea's version JSON: is it Gitea?",
                    f"check what listens on port {p.topo.service('gitea').port}")
    return ok(G, "gitea-api", f"Gitea {version} API answers")


def woodpecker(p: Probe) -> CheckResult:
    bad, _ = _get(p, "woodpecker", "/healthz", "woodpecker", (200, 204))
    return bad or ok(G, "woodpecker", f"{p.topo.service('woodpecker').url}/healthz answers")


def registry(p: Probe) -> CheckResult:
    bad, resp = _get(p, "registry", "/v2/", "registry", (200, 401))
    if bad:
        return bad
    api = resp.headers.get("Docker-Distribution-Api-Version", "")  # type: ignore[attr-defined]
    if resp.status_code == 401:  # type: ignore[attr-defined]
        return warn(G, "registry", "the registry asks for credentials; the lab's pushes expect none",
                    "recreate the registry without auth: gitopslab up")
    if not api.startswith("registry/2"):
        return fail(G, "registry", "/v2/ answered without the registry API header: is it a registry?",
                    f"check what listens on port {p.topo.service('registry').port}")
    return ok(G, "registry", f"{p.topo.registry}/v2/ answers ({api})")


def checks() -> list[Check]:
    out = [Check(G, "project", project, needs=("Host/engine",)),
           Check(G, "network", network, needs=("Compose/project",))]
    for service in SERVICES:
        out.append(Check(G, f"container:{service}", _container_check(service), needs=("Compose/project",)))
    out += [
        Check(G, "gitea", gitea, needs=("Compose/container:gitea",)),
        Check(G, "gitea-api", gitea_api, needs=("Compose/container:gitea",), soft=("Compose/gitea",)),
        Check(G, "woodpecker", woodpecker, needs=("Compose/container:woodpecker-server",)),
        Check(G, "registry", registry, needs=("Compose/container:registry",)),
    ]
    return out
