"""Links checks: every split-horizon URL reached by its lab name from each horizon (DESIGN.md 1):
  host       the system resolver (what a browser and `docker push` use) then HTTP;
  container  a throwaway container on the lab network (what a CI step sees), one run for all URLs;
  pod        from inside the hello-api pod (what Argo CD, MLflow clients and the nodes see).
Each horizon gives one ok line when every URL answers, else one line per URL that does not; a URL
whose service is already down is skipped with that reason (its own check holds the red line)."""

from __future__ import annotations

import shlex

from gitopslab.doctor.probe import Probe
from gitopslab.doctor.result import CheckResult, fail, ok, skip
from gitopslab.doctor.runner import Check
from gitopslab.drivers.hosts_file import elevated_hint, hosts_apply_args
from gitopslab.model.topology import Service, Topology

G = "Links"
PROBE_ROLE = "edge"  # the edge image (nginx:alpine) has busybox nc and is already on the machine


def service_check_id(svc: Service) -> str:
    if svc.layer == "compose":
        return f"Compose/{svc.key}"
    if svc.key == "argocd":
        return "GitOps/argocd"
    return f"Apps/{svc.key.replace('_', '-')}"


def _targets(topo: Topology) -> list[Service]:
    return list(topo.services)


def _url(svc: Service) -> str:
    return f"{svc.url}{svc.health_path}"


def _reached(outcome: str) -> bool:
    """An HTTP answer of any status proves the link (the service's own check judges the answer)."""
    return outcome == "ok" or outcome.startswith("HTTP ")


def _lines(p: Probe, horizon: str, outcomes: dict[str, str], fix: str) -> list[CheckResult]:
    bad = [fail(G, f"{horizon}:{svc.address}", f"{_url(svc)}: {outcomes.get(svc.address, 'no result')}", fix)
           for svc in _targets(p.topo) if not _reached(outcomes.get(svc.address, ""))]
    return bad or [ok(G, horizon, f"all {len(outcomes)} lab URLs answer by name")]


# --- host ----------------------------------------------------------------------------------------
def _from_host(svc: Service, timeout: float, resolved: list[str] | str) -> str:
    import httpx

    if isinstance(resolved, str):
        return f"the name does not resolve: {resolved}"
    try:
        with httpx.Client(timeout=timeout, trust_env=False) as client:
            return f"HTTP {client.get(_url(svc)).status_code}"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"


def host(p: Probe) -> list[CheckResult]:
    from concurrent.futures import ThreadPoolExecutor

    from gitopslab.doctor.host import resolve_names

    svcs = _targets(p.topo)
    names = resolve_names(sorted({s.hostname for s in svcs}), p.timeout)
    with ThreadPoolExecutor(max_workers=len(svcs) or 1) as pool:
        found = dict(zip([s.address for s in svcs],
                         pool.map(lambda s: _from_host(s, p.timeout - 0.5, names[s.hostname]), svcs), strict=True))
    return _lines(p, "host", found, f"{elevated_hint(hosts_apply_args(p.topo))}; then check the service's own line above")


# --- container on the lab network ----------------------------------------------------------------
def _nc_script(svcs: list[Service], seconds: int) -> str:
    """busybox sh: one raw HTTP/1.0 request per URL, all at once; prints `R|addr|HTTP 200` or the error.

    nc rather than wget: static glibc busybox builds crash in wget's resolver, nc resolves fine, and
    the busybox in the edge image (Alpine) has nc and timeout too."""
    parts = []
    for svc in svcs:
        req = shlex.quote(f"GET {svc.health_path} HTTP/1.0\\r\\nHost: {svc.address}\\r\\n\\r\\n")
        parts.append(
            f"(o=$(printf {req} | timeout {seconds} nc {svc.hostname} {svc.port} 2>&1 | head -n 1 | tr -d '\\r'); "
            f"case \"$o\" in HTTP/*) echo \"R|{svc.address}|HTTP ${{o#* }}\";; "
            f"'') echo 'R|{svc.address}|no answer within {seconds} s';; "
            f"*) echo \"R|{svc.address}|$o\";; esac) &")
    return " ".join(parts) + " wait"


def _parse(out: str) -> dict[str, str]:
    found = {}
    for line in out.splitlines():
        if line.startswith("R|"):
            _, addr, outcome = line.split("|", 2)
            found[addr] = outcome.strip() or "failed"
    return found


def container(p: Probe) -> list[CheckResult]:
    image = p.cfg.image(PROBE_ROLE)
    if p.docker("image", "inspect", "--format", "{{.Id}}", image).rc != 0:
        return [skip(G, "container", f"the probe image {image} is not on this machine "
                                     f"(pull it: {p.engine_name} pull {image})")]
    seconds = max(1, int(p.timeout) - 1)
    cmd = p.docker("run", "--rm", "--pull", "never", "--network", p.topo.network,
                   "--label", f"io.gitopslab.lab={p.cfg.name}", "--label", "io.gitopslab.role=doctor-probe",
                   "--entrypoint", "sh", image, "-c", _nc_script(_targets(p.topo), seconds),
                   timeout=p.timeout + 0.4)
    found = _parse(cmd.out)
    if not found:
        return [fail(G, "container", f"could not run a probe container on network {p.topo.network}: "
                                     f"{cmd.last_error}", "gitopslab up (creates the lab network)")]
    return _lines(p, "container", found, f"{p.engine_name} network inspect {p.topo.network}  "
                                         "(is the service attached with its name as alias?)")


# --- pod -----------------------------------------------------------------------------------------
_PY = """
import sys, threading, urllib.request, urllib.error
def go(addr, url):
    try:
        urllib.request.urlopen(url, timeout=__T__); r = "ok"
    except urllib.error.HTTPError as e:
        r = "HTTP %d" % e.code
    except Exception as e:
        r = str(getattr(e, "reason", e)).replace("\\n", " ")
    print("R|%s|%s" % (addr, r), flush=True)
ts = [threading.Thread(target=go, args=a) for a in TARGETS]
[t.start() for t in ts]; [t.join() for t in ts]
"""


def pod(p: Probe) -> list[CheckResult]:
    svcs = _targets(p.topo)
    api = p.topo.service("hello_api")
    seconds = max(1, int(p.timeout) - 1)
    script = _PY.replace("TARGETS", repr([(s.address, _url(s)) for s in svcs])).replace("__T__", str(seconds))
    base = ["kubectl", "--kubeconfig", str(p.state.kubeconfig), "-n", str(api.namespace), "exec",
            f"deploy/{api.k8s_service}", "--"]
    cmd = p.run([*base, "python3", "-c", script], timeout=p.timeout + 0.4)
    found = _parse(cmd.out)
    if not found:
        cmd = p.run([*base, "sh", "-c", _nc_script(svcs, seconds)], timeout=p.timeout + 0.4)
        found = _parse(cmd.out)
    if not found:
        return [fail(G, "pod", f"could not run a probe in deploy/{api.k8s_service} ({api.namespace}): "
                               f"{cmd.last_error}",
                     f"kubectl --kubeconfig {p.state.kubeconfig} -n {api.namespace} get pods")]
    return _lines(p, "pod", found, f"kubectl --kubeconfig {p.state.kubeconfig} -n kube-system get configmap "
                                   "coredns-custom -o yaml   (must map every lab name; `gitopslab up` restores it)")


def checks(topo: Topology) -> list[Check]:
    def per(horizon: str) -> dict[str, str]:
        return {f"{horizon}:{s.address}": service_check_id(s) for s in _targets(topo)}

    return [
        Check(G, "host", host, soft=("Host/names",), soft_map=per("host")),
        Check(G, "container", container, needs=("Host/engine",), soft=("Compose/network",),
              soft_map=per("container"), timeout_extra=1.0),
        Check(G, "pod", pod, needs=("Cluster/api",), soft=("Apps/hello-api",), soft_map=per("pod"),
              timeout_extra=1.0),
    ]
