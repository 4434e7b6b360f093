"""The real KServe controller (cmd/manager of kserve v0.20.0, built by `build.py serving`) against the real
cluster tier, installed from what the lab's kserve profile gives Argo CD, not restated here:

    crds(cluster)                       the kserve-crd chart of the release (charts/kserve-crd, server-side)
    platform(cluster, tree, ca)         `helm template` of the kserve-resources and kserve-runtime-configs
                                        charts with the GitOps tree's values.yaml / runtimes.yaml: the
                                        inferenceservice-config ConfigMap, RBAC, webhooks, ClusterStorageContainer,
                                        the sklearn ClusterServingRuntime
    KServeController(cluster).start()   the manager as a host process, its webhooks served with a self-signed cert

What differs from the lab, and why: the chart's webhooks name a Service (kserve-webhook-server-service) that
kube-apiserver reaches through kube-proxy, which this tier has not; they get the controller's loopback URL
(`clientConfig.url`, same paths) and a CA made here, where the lab's cert-manager Certificate/Issuer (no
cert-manager in this tier) would inject one. The chart's Deployment is left out: its pod would be a kwok pod
that runs nothing; the host process is the controller. Everything else is applied as rendered.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from tests.real.cluster_harness import HarnessError, RealCluster, build_namespace, free_port, program

NAMESPACE = "kserve"
# Left out of the rendered charts: cert-manager's kinds (no cert-manager here; the CA is made by make_certs)
# and the controller's Deployment (the host process replaces it).
_LEFT_OUT = {("cert-manager.io/v1", "Certificate"), ("cert-manager.io/v1", "Issuer"),
             ("apps/v1", "Deployment")}
_WEBHOOKS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def source() -> Path:
    """The extracted kserve v0.20.0 source archive (SOURCE_ARCHIVES['kserve'], sha256 checked)."""
    return Path(build_namespace()["archive_tree"]("kserve"))


def helm_template(chart: str, release: str, values: Path | None = None) -> list[dict[str, Any]]:
    argv = [str(program("helm")), "template", release, str(source() / "charts" / chart), "-n", NAMESPACE]
    if values is not None:
        argv += ["-f", str(values)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise HarnessError(f"helm template {chart}: {done.stderr.strip()[-2000:]}")
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def crds(cluster: RealCluster) -> None:
    docs = helm_template("kserve-crd", "kserve-crd")
    # Server-side: the InferenceService CRD is over client-side apply's annotation limit (kserve-crd.yaml says so).
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                    input=json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    names = [d["metadata"]["name"] for d in docs]

    def established() -> list[str]:
        items = json.loads(cluster.kubectl("get", "crd", *names, "-o", "json").stdout)["items"]
        done = {i["metadata"]["name"] for i in items
                if any(c["type"] == "Established" and c["status"] == "True" for c in i.get("status", {}).get("conditions") or [])}
        return [n for n in names if n not in done]

    wait_for(lambda: not established(), f"KServe's CRDs Established ({', '.join(names)})", 60)


def make_certs(root: Path) -> tuple[Path, bytes]:
    """A CA and the webhook server's certificate for 127.0.0.1, in the folder controller-runtime reads
    (<TMPDIR>/k8s-webhook-server/serving-certs/tls.{crt,key}). Returns (TMPDIR, the CA's PEM)."""
    tmp = root / "tmp"
    certs = tmp / "k8s-webhook-server" / "serving-certs"
    certs.mkdir(parents=True, exist_ok=True)

    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=kserve-test-ca",
        "-keyout", str(root / "ca.key"), "-out", str(root / "ca.crt"))
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kserve-webhook-server-service.kserve.svc",
        "-keyout", str(certs / "tls.key"), "-out", str(root / "tls.csr"))
    ext = root / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:kserve-webhook-server-service.kserve.svc\n")
    ssl("x509", "-req", "-in", str(root / "tls.csr"), "-CA", str(root / "ca.crt"), "-CAkey", str(root / "ca.key"),
        "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(certs / "tls.crt"))
    return tmp, (root / "ca.crt").read_bytes()


def _to_loopback(doc: dict[str, Any], port: int, ca: bytes) -> dict[str, Any]:
    for hook in doc.get("webhooks", []):
        path = hook["clientConfig"]["service"]["path"]
        hook["clientConfig"] = {"url": f"https://127.0.0.1:{port}{path}", "caBundle": base64.b64encode(ca).decode()}
    doc.get("metadata", {}).get("annotations", {}).pop("cert-manager.io/inject-ca-from", None)
    return doc


def platform(cluster: RealCluster, tree: Path, webhook_port: int, ca: bytes) -> list[dict[str, Any]]:
    """The kserve-resources chart with the tree's values.yaml, then the runtimes chart with runtimes.yaml.
    Returns what was applied (the test reads the rendered inferenceservice-config from it)."""
    values = tree / "base" / "platform" / "kserve"
    cluster.kubectl("create", "namespace", NAMESPACE, check=False)
    docs = [d for d in helm_template("kserve-resources", "kserve", values / "values.yaml")
            if (d.get("apiVersion"), d.get("kind")) not in _LEFT_OUT]
    docs = [_to_loopback(d, webhook_port, ca) if d["kind"] in _WEBHOOKS else d for d in docs]
    for d in docs:
        if d["kind"] not in ("ClusterRole", "ClusterRoleBinding", "ClusterStorageContainer", *_WEBHOOKS,
                             "CustomResourceDefinition"):
            d["metadata"].setdefault("namespace", NAMESPACE)
    first = [d for d in docs if d["kind"] != "ClusterStorageContainer"]  # a CR its own webhook does not gate
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                    input=json.dumps({"apiVersion": "v1", "kind": "List", "items": first}))
    return docs


def apply_after_start(cluster: RealCluster, docs: list[dict[str, Any]], tree: Path) -> list[dict[str, Any]]:
    """What the controller's validating webhooks check: the ClusterStorageContainer and the runtimes."""
    runtimes = helm_template("kserve-runtime-configs", "kserve-runtimes",
                             tree / "base" / "platform" / "kserve" / "runtimes.yaml")
    later = [d for d in docs if d["kind"] == "ClusterStorageContainer"] + runtimes
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                    input=json.dumps({"apiVersion": "v1", "kind": "List", "items": later}))
    return runtimes


def remove_webhooks(cluster: RealCluster, docs: list[dict[str, Any]]) -> None:
    """Before the controller stops: a Fail-policy webhook with no server would refuse every later
    InferenceService and predictor pod of the session."""
    for d in docs:
        if d["kind"] in _WEBHOOKS:
            cluster.kubectl("delete", d["kind"].lower(), d["metadata"]["name"], "--ignore-not-found", check=False)


class KServeController:
    """cmd/manager as a host process: in-cluster-like (POD_NAMESPACE=kserve, the admin kubeconfig), its
    metrics and probes on free loopback ports, its webhook server on `webhook_port` with make_certs' cert."""

    name = "kserve-controller"

    def __init__(self, cluster: RealCluster, root: Path) -> None:
        self.cluster, self.root = cluster, root
        self.webhook_port, self.probe_port, self.metrics_port = free_port(), free_port(), free_port()
        self.tmpdir, self.ca = make_certs(root)

    def start(self) -> None:
        binary = Path(build_namespace()["program_dir"]("kserve-controller")) / "manager"
        if not binary.is_file():
            raise HarnessError(f"{binary} is missing: run `python3 scripts/real-stack/build.py serving` first")
        self.cluster._spawn(self.name, [
            str(binary), "--webhook-port", str(self.webhook_port),
            "--metrics-addr", f"127.0.0.1:{self.metrics_port}", "--health-probe-addr", f"127.0.0.1:{self.probe_port}",
        ], {"KUBECONFIG": str(self.cluster.kubeconfig), "POD_NAMESPACE": NAMESPACE, "TMPDIR": str(self.tmpdir),
            "HOME": str(self.root)})
        self.cluster.wait(self.name, lambda: self.cluster.http_ok(f"http://127.0.0.1:{self.probe_port}/readyz"),
                          "/readyz (its webhook server started)")

    def stop(self) -> None:
        if self.name in self.cluster.procs:
            self.cluster.stop(self.name)

    def log(self) -> str:
        proc = self.cluster.procs.get(self.name)
        return proc.log.read_text(errors="replace")[-6000:] if proc else "(not started)"


def wait_for(check: Any, what: str, timeout: float, log: Any = None) -> Any:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(1)
    tail = f"\ncontroller log tail:\n{log()}" if log else ""
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last seen: {last!r}){tail}")

