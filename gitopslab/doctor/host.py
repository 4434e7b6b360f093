"""Host checks: what `up` needs before it starts (preflight runs exactly these), and what doctor
re-checks when something is wrong. None of them changes anything."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

from gitopslab.doctor.mirrors import mirrors
from gitopslab.doctor.probe import Probe
from gitopslab.doctor.result import CheckResult, fail, ok, skip, warn
from gitopslab.doctor.runner import Check
from gitopslab.drivers import ports as _ports
from gitopslab.drivers.hosts_file import elevated_hint, hosts_apply_args, hosts_file

G = "Host"
GIB = 1024 ** 3


def engine(p: Probe) -> CheckResult:
    from gitopslab.errors import EngineError

    try:
        info = p.engine_info()
    except EngineError as exc:
        return fail(G, "engine", exc.message, exc.hint)
    if info.kind == "podman":
        from gitopslab.drivers import podman

        start, low = podman.rootless_low_ports(info.cli, sorted(p.topo.host_ports))
        if low:
            return fail(G, "engine", f"rootless Podman cannot publish the lab's ports below {start}: "
                                     f"{', '.join(map(str, low))}",
                        f"allow them once: `sudo sysctl net.ipv4.ip_unprivileged_port_start={low[0]}` (persist it in "
                        "/etc/sysctl.d/), or give the lab ports from 1024 up in gitopslab.yaml (ports:)")
    return ok(G, "engine", f"{info.kind} {info.server_version} (API {info.api_version}, {info.os}) via {info.cli}")


def _tool(name: str, label: str) -> CheckResult:
    from gitopslab.drivers import tools

    info = tools.find(name)
    if info.ok:
        return ok(G, label, f"{name} {info.version} ({info.path}, from {info.source})")
    return fail(G, label, info.problem or f"{name} is missing", info.hint)


def compose(p: Probe) -> CheckResult:
    found = _tool("docker-compose", "compose")
    if found.status == "ok":
        return found
    plugin = p.docker("compose", "version", "--short")
    standalone = p.run(["docker-compose", "version", "--short"])
    if plugin.rc != 0 and standalone.rc != 0:
        # Neither answers: it is missing, not old (say what `docker compose` itself said).
        return fail(G, "compose", f"Docker Compose v2 is missing: `{p.engine_name} compose` answers "
                                  f"\"{plugin.last_error}\"", found.fix)
    return found


def k3d(p: Probe) -> CheckResult:
    return _tool("k3d", "k3d")


def kubectl(p: Probe) -> CheckResult:
    return _tool("kubectl", "kubectl")


def git(p: Probe) -> CheckResult:
    cmd = p.run(["git", "--version"])
    if cmd.rc != 0:
        return fail(G, "git", f"git does not run: {cmd.last_error}",
                    "install git (Debian/Ubuntu: sudo apt-get install git; macOS: xcode-select --install)")
    return ok(G, "git", cmd.out.strip())


def _ps_rows(p: Probe) -> list[tuple[str, str, str]]:
    def rows() -> list[tuple[str, str, str]]:
        cmd = p.docker("ps", "--format", "{{.Names}}\t{{.Ports}}\t{{.Labels}}")
        if cmd.rc != 0:
            return []
        rows = []
        for line in cmd.out.splitlines():
            name, ports_, labels = (line.split("\t") + ["", ""])[:3]
            rows.append((name, ports_, labels))
        return rows

    return p.once("ps-ports", rows)


def _ours(p: Probe, h: _ports.Holder) -> bool:
    labels = h.container_labels
    return bool(h.container) and (
        f"io.gitopslab.lab={p.cfg.name}" in labels or f"com.docker.compose.project={p.cfg.name}" in labels
        or str(h.container).startswith(f"k3d-{p.topo.cluster_name}-"))


def ports(p: Probe) -> list[CheckResult]:
    taken: list[tuple[int, str, _ports.Holder]] = []
    ours: list[tuple[int, str, _ports.Holder]] = []
    for port, key in sorted(p.topo.host_ports.items()):
        if _ports.is_free(port):
            continue
        h = _ports.holder(port, _ps_rows(p))
        (ours if _ours(p, h) else taken).append((port, key, h))
    if not taken:
        held = f"; {len(ours)} held by this lab" if ours else ""
        return [ok(G, "ports", f"{len(p.topo.host_ports)} ports free on 127.0.0.1{held}")]
    out = []
    for port, key, h in taken:
        setting = f"ports.{key}" if key != "kube-api" else "ports.kube_api"
        stop = (f"docker stop {h.container}" if h.container else f"kill {h.pid}" if h.pid else "stop it")
        out.append(fail(G, f"port:{port}", f"port {port} ({key}) is taken by {h.describe()}",
                        f"{stop}, or give the lab another port: {setting}: <free port> in gitopslab.yaml"))
    return out


def _engine_facts(p: Probe) -> dict[str, str]:
    """mem, root, ncpu and cgroup of the engine (Docker's or Podman's `info` shape), or {}."""
    def facts() -> dict[str, str]:
        cmd = p.docker("info", "--format", "{{json .}}")
        try:
            data = json.loads(cmd.out) if cmd.rc == 0 else {}
        except ValueError:
            data = {}
        return engine_facts(data) if isinstance(data, dict) else {}

    return p.once("engine-facts", facts)


def engine_facts(info: dict[str, Any]) -> dict[str, str]:
    """The facts preflight reads from `docker info` (MemTotal, CgroupVersion "1"/"2", ...) or
    `podman info` (host.memTotal, host.cgroupVersion "v1"/"v2", store.graphRoot)."""
    host, store = info.get("host") or {}, info.get("store") or {}
    found = {"mem": info.get("MemTotal", host.get("memTotal")),
             "root": info.get("DockerRootDir", store.get("graphRoot")),
             "ncpu": info.get("NCPU", host.get("cpus")),
             "cgroup": str(info.get("CgroupVersion", host.get("cgroupVersion")) or "").removeprefix("v")}
    return {k: str(v) for k, v in found.items() if v not in (None, "")}


def _host_memory() -> tuple[float | None, float | None]:
    """(total, available) bytes of this host, where the OS tells."""
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        return int(info["MemTotal"].split()[0]) * 1024, int(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), None
    except (ValueError, OSError, AttributeError):
        return None, None


def memory(p: Probe) -> CheckResult:
    from gitopslab.doctor.footprint import lab_need_bytes, outside_gitops_bytes, prd_node_bytes

    budget = p.cfg.resources.memory_gib
    need = lab_need_bytes(budget, p.cfg.multicluster) / GIB
    why = (f"the lab needs {need:.1f} GiB: workloads {budget:g} GiB (resources.memory_gib) + "
           f"{outside_gitops_bytes() / GIB:.1f} GiB for the compose layer, k3s and Argo CD")
    if p.cfg.multicluster:
        why += f" + {prd_node_bytes(True) / GIB:.1f} GiB for the production cluster's node (multicluster)"
    facts = _engine_facts(p)
    total, available = _host_memory()
    engine_mem = int(facts["mem"]) if facts.get("mem", "").isdigit() else None
    fix = ("give the engine more memory (Docker Desktop: Settings > Resources; Podman: podman machine set "
           "--memory), close other programs, or lower resources.memory_gib in gitopslab.yaml")
    if engine_mem is not None and engine_mem < need * GIB:
        return fail(G, "memory", f"the engine has {engine_mem / GIB:.1f} GiB; {why}", fix)
    if engine_mem is None and total is not None and total < need * GIB:
        return fail(G, "memory", f"this host has {total / GIB:.1f} GiB; {why}", fix)
    seen = engine_mem or total
    if seen is not None and available is not None and available < need * GIB:
        return warn(G, "memory", f"{available / GIB:.1f} GiB available now of {seen / GIB:.1f} GiB; {why}", fix)
    if seen is None:
        return warn(G, "memory", f"could not tell how much memory the engine has; {why}", fix)
    return ok(G, "memory", f"{seen / GIB:.1f} GiB ({why})")


def disk(p: Probe) -> CheckResult:
    need = p.cfg.resources.disk_gib
    root = Path(_engine_facts(p).get("root") or p.state.dir)
    while not root.exists() and root != root.parent:
        root = root.parent
    free = shutil.disk_usage(root).free
    if free < need * GIB:
        return fail(G, "disk", f"{free / GIB:.1f} GiB free at {root}; the lab needs {need:g} GiB",
                    "free space (docker image prune removes unused images of yours), or lower resources.disk_gib")
    return ok(G, "disk", f"{free / GIB:.1f} GiB free at {root} (the lab needs {need:g} GiB)")


CGROUP_V2_FIX = ("cgroup v1 is unsupported upstream: move the host to cgroup v2 (systemd hosts: add "
                 "systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX in /etc/default/grub, run "
                 "`sudo update-grub`, reboot; Docker Desktop and current distributions already use v2)")


def cgroup(p: Probe) -> CheckResult:
    """Kubernetes v1.35 (the k3s pin) refuses cgroup v1 by default (KEP-5573). The lab's nodes carry
    `--kubelet-arg=fail-cgroupv1=false` (render/k3d.py), so a v1 engine is a warning, not a stop."""
    version = _engine_facts(p).get("cgroup")
    if version == "2":
        return ok(G, "cgroup", "the engine runs cgroup v2")
    if version == "1":
        return warn(G, "cgroup", "the engine runs cgroup v1, which Kubernetes v1.35 refuses by default "
                                 "(KEP-5573); the lab's nodes start anyway with "
                                 "--kubelet-arg=fail-cgroupv1=false", CGROUP_V2_FIX)
    return skip(G, "cgroup", f"{p.engine_name} info did not name the cgroup version")


# A loopback name answers at once; a resolver that takes longer than this is itself the finding, and
# waiting longer would break doctor's bound (<= 2 s with nothing running).
RESOLVE_DEADLINE = 1.5


def resolve_names(names: list[str], timeout: float) -> dict[str, list[str] | str]:
    """Resolve every name side by side under one deadline (getaddrinfo has no timeout of its own)."""
    box: dict[str, list[str] | str] = {}

    def work(name: str) -> None:
        try:
            box[name] = sorted({str(a[4][0]) for a in socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)})
        except OSError as exc:
            box[name] = exc.strerror or str(exc)

    limit = min(timeout, RESOLVE_DEADLINE)
    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in names]
    for t in threads:
        t.start()
    deadline = time.monotonic() + limit
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return {n: box.get(n, f"no answer from the resolver within {limit:g} s") for n in names}


def names(p: Probe) -> CheckResult:
    from gitopslab.render.names import host_lines

    bad = {}
    for name, got in resolve_names(p.topo.hostnames, p.timeout).items():
        if isinstance(got, str):
            bad[name] = got
        elif not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in got):
            bad[name] = f"resolves to {', '.join(got)}, not loopback"
    if not bad:
        return ok(G, "names", f"all {len(p.topo.hostnames)} lab names resolve to loopback")
    lines = [line for line in host_lines(p.topo) if line.split()[1] in bad]
    first = next(iter(bad.items()))
    return fail(G, "names", f"{len(bad)} of {len(p.topo.hostnames)} lab names do not resolve to loopback "
                            f"({first[0]}: {first[1]})",
                f"{elevated_hint(hosts_apply_args(p.topo))}   (adds to {hosts_file()}: {'; '.join(lines)})")


def proxy(p: Probe) -> CheckResult:
    env = {k.upper(): v for k, v in os.environ.items() if k.upper() in {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}}
    cfgp = p.cfg.proxy
    proxied = env.get("HTTP_PROXY") or env.get("HTTPS_PROXY") or cfgp.http_proxy or cfgp.https_proxy
    if not proxied:
        return ok(G, "proxy", "no HTTP(S)_PROXY set")
    no_proxy = ",".join(x for x in (env.get("NO_PROXY", ""), cfgp.no_proxy) if x)
    entries = [e.strip().lower().lstrip("*") for e in no_proxy.split(",") if e.strip()]

    def exempt(name: str) -> bool:
        return any(name == e or (e.startswith(".") and name.endswith(e)) or name.endswith("." + e) for e in entries)

    missing = [n for n in [*p.topo.hostnames, "127.0.0.1"] if not exempt(n)]
    if not missing:
        return ok(G, "proxy", "a proxy is set and NO_PROXY covers every lab name")
    return warn(G, "proxy", f"a proxy is set but NO_PROXY does not cover {', '.join(missing)}: "
                            "the lab's own traffic would go to the proxy",
                f"export NO_PROXY=\"$NO_PROXY,{','.join(missing)}\"  (and proxy.no_proxy in gitopslab.yaml)")


def gpu(p: Probe) -> CheckResult:
    if p.cfg.gpu == "off":
        return skip(G, "gpu", "the gpu profile is off")
    cmd = p.run(["nvidia-smi", "-L"])
    if cmd.rc == 0 and cmd.out.strip():
        gpus = cmd.out.strip().splitlines()
        return ok(G, "gpu", f"{len(gpus)} GPU(s): {gpus[0]}")
    why = "nvidia-smi is not on PATH" if cmd.rc == 127 else f"nvidia-smi failed: {cmd.last_error}"
    fix = "install the NVIDIA driver and nvidia-container-toolkit, or run with --gpu off"
    if p.cfg.gpu == "auto":
        return warn(G, "gpu", f"{why}: the lab falls back to CPU", fix)
    return fail(G, "gpu", why, fix)


def checks() -> list[Check]:
    return [
        Check(G, "engine", engine),
        Check(G, "compose", compose),
        Check(G, "k3d", k3d),
        Check(G, "kubectl", kubectl),
        Check(G, "git", git),
        Check(G, "ports", ports),
        Check(G, "memory", memory),
        Check(G, "disk", disk),
        Check(G, "cgroup", cgroup),
        Check(G, "names", names),
        Check(G, "proxy", proxy),
        Check(G, "gpu", gpu),
        Check(G, "mirrors", mirrors),
    ]
