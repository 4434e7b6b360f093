"""The real cluster tier, out of any container: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, kwok (fake nodes labelled like the lab's k3d node, plus a GPU one), redis and the Argo CD
components run as host processes, the way Argo CD's Procfile runs them in development.

    cluster = RealCluster(root, context="k3d-mylab")
    cluster.start()            # bounded waits; a failure names the component and its log's tail
    cluster.kubeconfig, cluster.argocd_url
    cluster.stop("argocd-repo-server"); cluster.close()

Every process gets all three stdio streams redirected (logs under `root/logs`) and its own session, and is
stopped by its PID. Every port is a free one on 127.0.0.1. Programs come from the cache
scripts/real-stack/build.py fills (`build.py cluster`); redis-server from Debian.
Reusable outside pytest (benchmarks/): it imports nothing from pytest.
"""

from __future__ import annotations

import json
import os
import runpy
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "scripts" / "real-stack" / "build.py"
NODE_LABELS = {  # what k3s puts on the lab's single k3d node
    "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "node.kubernetes.io/instance-type": "k3s",
    "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true",
}
GPU_LABEL = ("gitopslab.io/gpu", "true")  # gitopslab/render/k3d.py GPU_NODE_LABEL
ARGOCD_NS = "argocd"


class HarnessError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_namespace() -> dict[str, Any]:
    return runpy.run_path(str(BUILD))


def program(name: str, binary: str | None = None) -> Path:
    """The built binary of REAL_STACK[name] (`binary` when the program ships several)."""
    path = Path(build_namespace()["program_dir"](name)) / (binary or name)
    if not path.is_file():
        raise HarnessError(f"{path} is missing: run `python3 scripts/real-stack/build.py cluster` first")
    return path


def module_dir(name: str) -> Path:
    """The downloaded Go module of REAL_STACK[name] (manifests, kwok's stages)."""
    ns = build_namespace()
    prog = ns["PINS"]["REAL_STACK"][name]
    return Path(ns["download_module"](prog.module, prog.version, Path(os.devnull), prog.toolchain))


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.kill(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout)


@dataclass
class RealCluster:
    root: Path
    context: str = "gitopslab-real"
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, Proc] = field(default_factory=dict)
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    timeout: float = 120.0
    app_resync: int = 120  # the controller's --app-resync default in v3.6.1: the webhook test must beat it
    # Extra DNS names for the API's serving certificate (kube-apiserver's own self-signed one, bound to
    # 127.0.0.1, carries no `localhost`): a second cluster that Argo CD reaches by name and verifies.
    san_names: tuple[str, ...] = ()

    # --- what the project's code is handed ------------------------------------------------------
    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def api_url(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    @property
    def argocd_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['argocd-server']}"

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self, argocd: bool = True) -> RealCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        for key in ("etcd", "etcd-peer", "apiserver", "controller-manager", "scheduler", "kwok", "redis",
                    "argocd-repo-server", "argocd-server", "argocd-controller-metrics", "argocd-repo-metrics",
                    "argocd-server-metrics", "appset-metrics", "appset-probe", "appset-webhook"):
            self.ports.setdefault(key, free_port())
        try:
            self.start_control_plane()
            if argocd:
                self.start_argocd()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop()

    def stop(self, name: str) -> None:
        self.procs[name].stop()

    def restart(self, name: str) -> None:
        self.procs[name].start()

    # --- pieces ----------------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        proc = Proc(name, argv, {**os.environ, **(env or {})}, self.root / "logs" / f"{name}.log")
        self.procs[name] = proc
        proc.start()
        return proc

    def wait(self, name: str, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if not proc.running:
                raise HarnessError(f"{name} exited while waiting for {what}; log {proc.log}:\n{_tail(proc.log)}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.5)
        log = self.procs[name].log
        raise HarnessError(f"{name}: {what} not within {self.timeout:.0f} s; log {log}:\n{_tail(log)}")

    def http_ok(self, url: str, token: str | None = None) -> bool:
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
        ctx = ssl._create_unverified_context()  # the apiserver's self-signed serving cert
        with urllib.request.urlopen(req, timeout=5, context=ctx) as resp:  # noqa: S310 (loopback only)
            return bool(resp.status == 200)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([kubectl_binary(), "--kubeconfig", str(self.kubeconfig), "--context", self.context, *args],
                              input=input, capture_output=True, text=True, timeout=120, stdin=None if input else
                              subprocess.DEVNULL)
        if check and done.returncode != 0:
            raise HarnessError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done

    def remove_applications(self, *names: str, timeout: float = 120.0) -> None:
        """Delete Argo CD Applications one by one, in the order given (parents first), and wait until
        each is gone, so a test leaves the shared Argo CD as it found it. Order matters: a parent app
        still alive re-creates (self-heal) a child deleted beside it. An app whose sync operation is still
        retrying (a CRD kwok's control plane lacks) holds its finalizer; after half its time it is
        dropped, since what the test left behind is ours to leave, not Argo CD's to prune."""
        share = timeout / max(len(names), 1)
        for name in names:
            self.kubectl("delete", "application", name, "-n", "argocd", "--wait=false", "--ignore-not-found",
                         check=False)
            if self._wait_gone([name], share / 2):
                self.kubectl("patch", "application", name, "-n", "argocd", "--type", "merge",
                             "-p", '{"metadata":{"finalizers":null}}', check=False)
                self._wait_gone([name], share / 2)
        left = self._wait_gone(names, 2)
        if left:
            status = self.kubectl("get", "application", *left, "-n", "argocd", "-o", "yaml", check=False).stdout
            raise HarnessError(f"Applications {left} still there {timeout:.0f} s after delete:\n{status[-4000:]}")

    def _wait_gone(self, names: Sequence[str], timeout: float) -> list[str]:
        deadline, left = time.monotonic() + timeout, list(names)
        while left and time.monotonic() < deadline:
            out = self.kubectl("get", "application", "-n", "argocd", "-o", "name", check=False).stdout
            left = [n for n in left if f"application.argoproj.io/{n}" in out.split()]
            if left:
                time.sleep(1)
        return left

    def start_control_plane(self) -> None:
        pki = self.root / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        key, pub = pki / "sa.key", pki / "sa.pub"
        if not key.exists():
            subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
            subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(pub)], check=True,
                           capture_output=True)
        if self.san_names and not (pki / "apiserver.crt").exists():
            # --cert-dir serves apiserver.crt/.key when they exist; the token controller hands it out as ca.crt.
            sans = ",".join([f"DNS:{n}" for n in (*self.san_names, "kubernetes.default.svc")] + ["IP:127.0.0.1"])
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", f"/CN={self.context}", "-addext", f"subjectAltName={sans}",
                            "-keyout", str(pki / "apiserver.key"), "-out", str(pki / "apiserver.crt")],
                           check=True, capture_output=True)
        tokens = self.root / "tokens.csv"
        tokens.write_text(f"{self.token},admin,admin,system:masters\n")
        tokens.chmod(0o600)
        p = self.ports
        peer = f"http://127.0.0.1:{p['etcd-peer']}"
        # `go build` names the binary after go.etcd.io/etcd/server/v3's last element before /v3.
        self._spawn("etcd", [str(program("etcd", "server")), "--name", "e0", "--data-dir", str(self.root / "etcd"),
                             "--listen-client-urls", f"http://127.0.0.1:{p['etcd']}",
                             "--advertise-client-urls", f"http://127.0.0.1:{p['etcd']}",
                             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                             "--initial-cluster", f"e0={peer}", "--unsafe-no-fsync"])
        self.wait("etcd", lambda: self.http_ok(f"http://127.0.0.1:{p['etcd']}/health"), "/health")
        kube = "kubernetes"
        self._spawn("kube-apiserver", [
            str(program(kube, "kube-apiserver")), "--etcd-servers", f"http://127.0.0.1:{p['etcd']}",
            "--bind-address", "127.0.0.1", "--secure-port", str(p["apiserver"]), "--advertise-address", host_ip(),
            "--cert-dir", str(pki), "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file", str(pub), "--service-account-signing-key-file", str(key),
            "--token-auth-file", str(tokens), "--authorization-mode", "RBAC",
            "--service-cluster-ip-range", "10.43.0.0/16", "--service-node-port-range", "30000-32767"])
        self.wait("kube-apiserver", lambda: self.http_ok(f"{self.api_url}/readyz", self.token), "/readyz")
        self.write_kubeconfig(self.kubeconfig, namespace=None)
        common = ["--kubeconfig", str(self.kubeconfig), "--leader-elect=false", "--bind-address", "127.0.0.1"]
        self._spawn("kube-controller-manager", [
            str(program(kube, "kube-controller-manager")), *common, "--secure-port", str(p["controller-manager"]),
            "--service-account-private-key-file", str(key), "--root-ca-file", str(pki / "apiserver.crt"),
            "--use-service-account-credentials=false", "--cluster-name", self.context])
        self._spawn("kube-scheduler", [str(program(kube, "kube-scheduler")), *common,
                                       "--secure-port", str(p["scheduler"])])
        self.wait("kube-controller-manager", lambda: self.http_ok(
            f"https://127.0.0.1:{p['controller-manager']}/healthz"), "/healthz")
        self.wait("kube-scheduler", lambda: self.http_ok(f"https://127.0.0.1:{p['scheduler']}/healthz"), "/healthz")
        self.start_kwok()

    def write_kubeconfig(self, path: Path, namespace: str | None) -> None:
        ctx: dict[str, Any] = {"cluster": "real", "user": "admin"} | ({"namespace": namespace} if namespace else {})
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": self.context,
            "clusters": [{"name": "real", "cluster": {"server": self.api_url, "insecure-skip-tls-verify": True}}],
            "users": [{"name": "admin", "user": {"token": self.token}}],
            "contexts": [{"name": self.context, "context": ctx}],
        }
        path.write_text(json.dumps(config))
        path.chmod(0o600)

    def start_kwok(self) -> None:
        stages = module_dir("kwok") / "kustomize" / "stage"
        # Without stages kwok refuses to start. The volume stages bind PVCs to PVs it creates for the
        # `kwok-volume` default StorageClass (applied below): the lab's MinIO and MLflow claims bind.
        volume = stages / "volume" / "fast"
        docs = [stages / "node" / "fast" / "node-initialize.yaml", stages / "node" / "heartbeat" / "node-heartbeat.yaml",
                *(stages / "pod" / "fast" / f"pod-{s}.yaml" for s in ("ready", "complete", "delete")),
                *(volume / f"{s}.yaml" for s in ("pv-bind", "pv-delete", "pvc-provision", "pvc-delete"))]
        config = self.root / "kwok-stages.yaml"
        config.write_text("\n---\n".join(d.read_text() for d in docs))
        self._spawn("kwok", [str(program("kwok")), "--kubeconfig", str(self.kubeconfig), "-c", str(config),
                             "--manage-all-nodes=false", "--manage-nodes-with-annotation-selector",
                             "kwok.x-k8s.io/node=fake", "--server-address", f"127.0.0.1:{self.ports['kwok']}",
                             "--cidr", "10.42.0.0/16", "--node-ip", "10.42.0.1"])
        self.kubectl("apply", "-f", str(volume / "storage-class.yaml"))
        self.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [
            node(f"{self.context}-server-0", {}), node(f"{self.context}-gpu-0", {GPU_LABEL[0]: GPU_LABEL[1]}, gpu=1)]}))
        self.wait("kwok", lambda: "True" in self.kubectl(
            "get", "nodes", "-o", "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}").stdout,
            "its nodes Ready")

    def start_argocd(self) -> None:
        """The install manifest first, as upstream's `make start-local` does (the components read argocd-cm and
        friends at start; its Deployments become kwok pods that do nothing), then the components themselves.
        Server-side: the ApplicationSet CRD is over the client-side annotation limit. The project's own install
        step applies the same manifest again (same field manager) and finds it in place."""
        p = self.ports
        manifest = module_dir("argocd") / "manifests" / "install.yaml"
        self.kubectl("create", "namespace", ARGOCD_NS, check=False)
        self.kubectl("apply", "--server-side", "--force-conflicts", "-n", ARGOCD_NS, "-f", str(manifest))
        self.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        self._spawn("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(p["redis"]), "--save", "",
                              "--appendonly", "no"])
        self.wait("redis", lambda: _tcp_open(p["redis"]), "its port")
        argo_kubeconfig = self.root / "kubeconfig-argocd"  # the components read their namespace from it
        self.write_kubeconfig(argo_kubeconfig, namespace=ARGOCD_NS)
        tools = ":".join(str(Path(program(n)).parent) for n in ("kustomize", "helm"))
        data = self.root / "argocd"
        for sub in ("tls", "ssh", "gpg/keys", "gpg/source", "cmp"):
            (data / sub).mkdir(parents=True, exist_ok=True)
        base = {"ARGOCD_FAKE_IN_CLUSTER": "true", "KUBECONFIG": str(argo_kubeconfig),
                "ARGOCD_TLS_DATA_PATH": str(data / "tls"), "ARGOCD_SSH_DATA_PATH": str(data / "ssh"),
                "ARGOCD_GNUPGHOME": str(data / "gpg/keys"), "ARGOCD_GPG_DATA_PATH": str(data / "gpg/source"),
                "ARGOCD_GPG_ENABLED": "false", "ARGOCD_PLUGINSOCKFILEPATH": str(data / "cmp"),
                "PATH": f"{tools}:{data / 'bin'}:{os.environ['PATH']}"}
        # The repo-server runs git-verify-wrapper.sh on every revision even with GPG off (v3.6, deprecated path)
        # and turns its absence into "permission denied" for every app; the image copies it from hack/.
        (data / "bin").mkdir(exist_ok=True)
        wrapper = data / "bin" / "git-verify-wrapper.sh"
        shutil.copyfile(module_dir("argocd") / "hack" / "git-verify-wrapper.sh", wrapper)
        wrapper.chmod(0o755)
        argocd = str(program("argocd"))
        redis = ["--redis", f"127.0.0.1:{p['redis']}"]
        repo = ["--repo-server", f"127.0.0.1:{p['argocd-repo-server']}"]
        self._spawn("argocd-repo-server", [argocd, "--port", str(p["argocd-repo-server"]), "--address", "127.0.0.1",
                                           "--metrics-port", str(p["argocd-repo-metrics"]), *redis],
                    base | {"ARGOCD_BINARY_NAME": "argocd-repo-server", "HOSTNAME": "argocd-repo-server-0"})
        self._spawn("argocd-application-controller", [
            argocd, *redis, *repo, "--metrics-port", str(p["argocd-controller-metrics"]),
            "--app-resync", str(self.app_resync), "--self-heal-timeout-seconds", "2"],
            base | {"ARGOCD_BINARY_NAME": "argocd-application-controller",
                    "HOSTNAME": "argocd-application-controller-0"})  # its shard is parsed from the -0
        self._spawn("argocd-server", [argocd, "--insecure", "--address", "127.0.0.1", "--port", str(p["argocd-server"]),
                                      "--metrics-port", str(p["argocd-server-metrics"]), *redis, *repo],
                    base | {"ARGOCD_BINARY_NAME": "argocd-server", "HOSTNAME": "argocd-server-0"})
        self.wait("argocd-repo-server", lambda: _tcp_open(p["argocd-repo-server"]), "its gRPC port")
        self.wait("argocd-application-controller", lambda: self.http_ok(
            f"http://127.0.0.1:{p['argocd-controller-metrics']}/metrics"), "/metrics")
        self.wait("argocd-server", lambda: self.http_ok(f"{self.argocd_url}/healthz"), "/healthz")
        # After the server: it writes argocd-secret's server.secretkey, which the webhook handler needs.
        self._spawn("argocd-applicationset-controller", [
            argocd, "--argocd-repo-server", f"127.0.0.1:{p['argocd-repo-server']}",
            "--metrics-addr", f"127.0.0.1:{p['appset-metrics']}", "--probe-addr", f"127.0.0.1:{p['appset-probe']}",
            "--webhook-addr", f"127.0.0.1:{p['appset-webhook']}"],
            base | {"ARGOCD_BINARY_NAME": "argocd-applicationset-controller",
                    "HOSTNAME": "argocd-applicationset-controller-0"})
        self.wait("argocd-applicationset-controller", lambda: self.http_ok(
            f"http://127.0.0.1:{p['appset-metrics']}/metrics"), "/metrics")


def kubectl_binary() -> str:
    """kubectl v1.35.5 as built with the control plane; the host's kubectl where the build made none."""
    try:
        return str(program("kubernetes", "kubectl"))
    except HarnessError:
        return "kubectl"


def _tcp_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def host_ip() -> str:
    """A non-loopback address for the `kubernetes` Endpoints (they may not hold 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing address
            return str(sock.getsockname()[0])
        except OSError:
            return "10.0.2.15"


def node(name: str, labels: dict[str, str], gpu: int = 0) -> dict[str, Any]:
    capacity = {"cpu": "8", "memory": "32Gi", "pods": "110"} | ({"nvidia.com/gpu": str(gpu)} if gpu else {})
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                     "labels": NODE_LABELS | {"kubernetes.io/hostname": name, "type": "kwok"} | labels},
        "spec": {},
        "status": {"capacity": capacity, "allocatable": capacity},
    }


def which_missing() -> list[str]:
    """Host tools the tier needs besides the built programs."""
    return [t for t in ("kubectl", "redis-server", "openssl", "git") if shutil.which(t) is None]
