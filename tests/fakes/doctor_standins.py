"""Real local stand-ins for the lab's services: HTTP servers on 127.0.0.1 with free ports, black holes
(sockets that accept and never answer), a kubeconfig pointing kubectl at a stand-in API server.
Shared by the doctor tests, the preflight tests and benchmarks/doctor.py."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.compose_lab import free_ports

Answer = tuple[int, Any] | tuple[int, Any, dict[str, str]]
Route = Answer | Callable[[dict[str, Any]], Answer]


class StandIn:
    """An HTTP server answering `routes[(METHOD, path)]`; records every request it saw."""

    def __init__(self, routes: dict[tuple[str, str], Route], delay: float = 0.0, port: int = 0) -> None:
        self.routes, self.delay, self.seen = routes, delay, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                outer.seen.append(req)
                time.sleep(outer.delay)
                route = outer.routes.get((self.command, self.path.split("?")[0]))
                answer = route(req) if callable(route) else route or (404, {"message": "not found"})
                status, payload, headers = (*answer, {})[:3] if len(answer) == 2 else answer
                data = payload if isinstance(payload, bytes) else (
                    payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class BlackHole:
    """Accepts connections and never answers: the hung service doctor must not wait on."""

    def __init__(self, port: int = 0) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_kubeconfig(path: Path, port: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- cluster: {{server: 'http://127.0.0.1:{port}'}}\n  name: standin\n"
        "contexts:\n- context: {cluster: standin, user: standin}\n  name: standin\n"
        "current-context: standin\nusers:\n- name: standin\n  user: {}\n")
    return path


def node(name: str, ready: bool = True, gpus: int = 0) -> dict[str, Any]:
    cond = {"type": "Ready", "status": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady",
            "message": "" if ready else "container runtime network not ready"}
    return {"metadata": {"name": name},
            "status": {"conditions": [cond], "allocatable": {"cpu": "2", "nvidia.com/gpu": str(gpus)}}}


def pod(name: str, reason: str | None = None) -> dict[str, Any]:
    status = {"name": "main", "ready": reason is None,
              "state": {"running": {}} if reason is None else {"waiting": {"reason": reason}}}
    return {"metadata": {"name": name}, "status": {"phase": "Running", "containerStatuses": [status]}}


def application(name: str, sync: str = "Synced", health: str = "Healthy", bad: dict | None = None) -> dict[str, Any]:
    resources = [{"kind": "Service", "namespace": "app-dev", "name": name, "status": "Synced",
                  "health": {"status": "Healthy"}}]
    if bad:
        resources.append(bad)
    return {"metadata": {"name": name, "namespace": "argocd"},
            "status": {"sync": {"status": sync}, "health": {"status": health}, "resources": resources}}


def kube_routes(nodes: list | None = None, pods: list | None = None, apps: list | None = None) -> dict:
    return {
        ("GET", "/version"): (200, {"gitVersion": "v1.35.5+k3s1"}),
        ("GET", "/api/v1/nodes"): (200, {"items": nodes if nodes is not None else [node("k3d-lab-server-0")]}),
        ("GET", "/api/v1/namespaces/kube-system/pods"): (200, {"items": pods if pods is not None else
                                                               [pod("coredns-1"), pod("metrics-server-1")]}),
        ("GET", "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"):
            (200, {"items": apps if apps is not None else [application("root"), application("hello-api")]}),
    }


class StandInLab:
    """A whole lab of stand-ins: HTTP servers on every service port (one may be a black hole), a
    stand-in Kubernetes API with the lab's kubeconfig, Woodpecker/Argo CD answers, and (with an image)
    labelled busybox containers for the compose services plus one container on the lab network that
    answers under every lab name. `close()` removes everything it made."""

    COMPOSE = ("gitea", "woodpecker-server", "woodpecker-agent", "registry")

    def __init__(self, name: str, state_root: Path, image: str | None = None, black_hole: str | None = None) -> None:
        import subprocess

        from gitopslab.model.config import LabConfig
        from gitopslab.model.topology import build
        from gitopslab.state import LabState

        self.servers: list[Any] = []
        self.containers: list[str] = []
        self.network: str | None = None
        self._sp = subprocess
        keys = ("gitea", "woodpecker", "registry", "kube_api", "argocd", "hello_api", "mlflow", "minio_api",
                "minio_console", "dashboard")
        # All held open at once, so no two services get the same port (one free_port() after another can).
        ports = dict(zip(keys, free_ports(len(keys), set()), strict=True))
        self.cfg = LabConfig.model_validate({"name": name, "ports": ports,
                                             "images": {"edge": image} if image else {}})
        self.topo = build(self.cfg)
        self.state = LabState(name, root=state_root)
        self.state.dir.mkdir(parents=True, exist_ok=True)
        self.state.secrets_file.write_text(json.dumps({"woodpecker_token": "wp", "argocd_admin_password": "pw"}))
        routes = {
            "gitea": {("GET", "/api/healthz"): (200, {"status": "pass"}),
                      ("GET", "/api/v1/version"): (200, {"version": "1.26.4"})},
            "woodpecker": {("GET", "/healthz"): (204, b""),
                           ("GET", "/api/repos/lookup/platform/hello-api"): (200, {"id": 1}),
                           ("GET", "/api/repos/1/pipelines/latest"): (200, {"number": 1, "status": "success"})},
            "registry": {("GET", "/v2/"): (200, {}, {"Docker-Distribution-Api-Version": "registry/2.0"})},
            "argocd": {("GET", "/healthz"): (200, "ok"), ("POST", "/api/v1/session"): (200, {"token": "t"}),
                       ("GET", "/api/v1/repositories"): (200, {"items": [
                           {"repo": f"http://gitea.localhost:{ports['gitea']}/platform/gitops.git",
                            "connectionState": {"status": "Successful"}}]})},
            "hello_api": {("GET", "/health"): (200, {"status": "ok"}),
                          ("POST", "/predict"): (200, {"class": "setosa"})},
            "mlflow": {("GET", "/health"): (200, "OK")},
            "minio_api": {("GET", "/minio/health/live"): (200, b"")},
            "minio_console": {("GET", "/"): (200, "console")},
            "dashboard": {("GET", "/"): (200, "headlamp")},
        }
        for key, table in routes.items():
            if key == black_hole:
                self.servers.append(BlackHole(ports[key]))
            else:
                self.servers.append(StandIn(table, port=ports[key]))
        kube = StandIn(kube_routes())
        self.servers.append(kube)
        write_kubeconfig(self.state.kubeconfig, kube.port)
        if image:
            self._containers(image)

    def _docker(self, *args: str) -> None:
        self._sp.run(["docker", *args], check=True, capture_output=True, timeout=60)

    def _containers(self, image: str) -> None:
        lab = self.cfg.name
        labels = ["--label", "io.gitopslab.test=1", "--label", f"io.gitopslab.lab={lab}"]
        self.network = self.topo.network
        self._docker("network", "create", *labels, self.network)
        for svc in self.COMPOSE:
            name = f"{lab}-{svc}"
            self.containers.append(name)
            self._docker("run", "-d", "--name", name, *labels, "--label", f"com.docker.compose.service={svc}",
                         "--health-cmd", "true", "--health-interval", "1s", image, "sleep", "600")
        servers = " ".join(f"httpd -p {s.port} -h /www;" for s in self.topo.services)
        aliases = [a for h in self.topo.hostnames for a in ("--network-alias", h)]
        name = f"{lab}-names"
        self.containers.append(name)
        self._docker("run", "-d", "--name", name, "--label", "io.gitopslab.test=1", "--network", self.network,
                     *aliases, image, "sh", "-c", f"mkdir -p /www; {servers} sleep 600")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            out = self._sp.run(["docker", "ps", "--filter", f"label=io.gitopslab.lab={lab}", "--format",
                                "{{.Status}}"], capture_output=True, text=True).stdout
            if out.count("(healthy)") == len(self.COMPOSE):
                return
            time.sleep(0.3)

    def context(self) -> Any:
        from gitopslab.context import Context

        return Context(cfg=self.cfg, topo=self.topo, state=self.state)

    def close(self) -> None:
        for s in self.servers:
            s.close()
        for name in self.containers:
            self._sp.run(["docker", "rm", "-f", name], capture_output=True)
        if self.network:
            self._sp.run(["docker", "network", "rm", self.network], capture_output=True)
