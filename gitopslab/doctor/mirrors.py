"""Host check `mirrors`: each room mirror in `mirrors:` answers its registry API, and the engine may
pull from an http one (Docker pulls over http only from its insecure registries; loopback is one
by default). A warning, never a failure: `up` falls back to the upstream registry."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from gitopslab.doctor.probe import Probe
from gitopslab.doctor.result import CheckResult, ok, skip, warn
from gitopslab.model.mirrors import host_of

G = "Host"


def allowed_over_http(host: str, info: dict[str, Any]) -> bool:
    """Whether `docker info`'s RegistryConfig lets the engine pull from `host` (host:port) over http."""
    registry = info.get("RegistryConfig") or {}
    index = (registry.get("IndexConfigs") or {}).get(host) or {}
    if index and index.get("Secure") is False:
        return True
    name = host.rsplit(":", 1)[0]
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return name == "localhost"
    cidrs = registry.get("InsecureRegistryCIDRs") or ["127.0.0.0/8"]
    return any(address in ipaddress.ip_network(c, strict=False) for c in cidrs)


def mirrors(p: Probe) -> CheckResult:
    import httpx

    wanted = p.cfg.mirrors.registries()
    if not wanted:
        return skip(G, "mirrors", "no registry mirrors set")
    problems: list[str] = []
    for registry, url in wanted.items():
        try:
            code = httpx.get(f"{url}/v2/", timeout=p.timeout, trust_env=False).status_code
            if code not in (200, 401):
                problems.append(f"{registry} mirror {url} answered /v2/ with {code}")
        except httpx.HTTPError as exc:
            problems.append(f"{registry} mirror {url} does not answer ({type(exc).__name__})")
    cmd = p.docker("info", "--format", "{{json .}}")
    info = json.loads(cmd.out) if cmd.rc == 0 and cmd.out.strip().startswith("{") else {}
    refused = [host_of(u) for u in wanted.values() if u.startswith("http://") and not allowed_over_http(host_of(u), info)]
    if refused:
        problems.append(f"{p.engine_name} does not pull over http from {', '.join(refused)}")
    if not problems:
        return ok(G, "mirrors", f"{len(wanted)} mirror(s) answer: {', '.join(wanted)}")
    fix = ("start them on the instructor's machine (`gitopslab mirror up --address ADDR`)"
           + (f"; add {', '.join(repr(h) for h in refused)} to \"insecure-registries\" in the engine's "
              "daemon.json (Docker Desktop: Settings > Docker Engine) and restart it" if refused else ""))
    return warn(G, "mirrors", "; ".join(problems) + " (pulls fall back to the upstream registries)", fix)
