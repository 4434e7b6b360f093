"""Fakes at the process boundary and at Argo CD's HTTP API, for the cluster layer's tests.

`FakeWorld` is a runner (gitopslab.drivers.proc.run's signature) that records every k3d, kubectl, docker and
nvidia-smi command and answers in the tools' real output formats (k3d cluster list JSON, kubectl
objects and `Error from server (NotFound)` lines, docker's `No such ...`), keeping enough state
(clusters, Kubernetes objects, images) that a second `up` sees what the first one made. Anything it
does not know is an AssertionError, so an unexpected command fails the test.

`FakeArgoCD` is a real HTTP server on 127.0.0.1 that follows Argo CD's session and applications API:
`POST /api/v1/session` checks the admin password, every other call needs the bearer token.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import yaml

from gitopslab.drivers.proc import Completed
from gitopslab.errors import EngineError
from gitopslab.model.versions import ARGOCD_INSTALL_URL, ARGOCD_VERSION

# Commands that change something; a second `up` on a healthy lab must issue none of them.
CHANGING = [
    ("k3d", "cluster", "create"), ("k3d", "cluster", "start"), ("k3d", "cluster", "stop"),
    ("k3d", "cluster", "delete"), ("k3d", "cluster", "edit"), ("k3d", "kubeconfig", "merge"),
    ("kubectl", "apply"), ("kubectl", "rollout", "restart"), ("kubectl", "patch"), ("kubectl", "delete"),
    ("docker", "build"), ("docker", "pull"), ("edge", "start"), ("gitea", "create-hook"),
]

KINDS = {  # kubectl's kind words -> (kind, plural resource name as kubectl prints it)
    "deployment": ("Deployment", "deployments.apps"), "configmap": ("ConfigMap", "configmaps"),
    "service": ("Service", "services"), "secret": ("Secret", "secrets"),
    "runtimeclass": ("RuntimeClass", "runtimeclasses.node.k8s.io"),
    "daemonset": ("DaemonSet", "daemonsets.apps"), "namespace": ("Namespace", "namespaces"),
    "application": ("Application", "applications.argoproj.io"),
    "serviceaccount": ("ServiceAccount", "serviceaccounts"),
    "clusterrole": ("ClusterRole", "clusterroles.rbac.authorization.k8s.io"),
    "rolebinding": ("RoleBinding", "rolebindings.rbac.authorization.k8s.io"),
}
CLUSTER_SCOPED = {"Namespace", "RuntimeClass", "ClusterRole", "ClusterRoleBinding"}


@dataclass
class Call:
    argv: tuple[str, ...]
    stdin: str | None = None

    @property
    def tool(self) -> str:
        return Path(self.argv[0]).name

    def words(self) -> list[str]:
        """The command without kubectl's --kubeconfig/--context pair."""
        out, skip = [self.tool], 0
        for arg in self.argv[1:]:
            if skip:
                skip -= 1
                continue
            if arg in ("--kubeconfig", "--context"):
                skip = 1
                continue
            out.append(arg)
        return out

    def changes(self) -> bool:
        words = self.words()
        return any(tuple(words[: len(c)]) == c for c in CHANGING)

    def __str__(self) -> str:
        return " ".join(self.argv)


def _ok(stdout: str = "") -> Completed:
    return Completed((), 0, stdout, "")


def _fail(stderr: str, rc: int = 1) -> Completed:
    return Completed((), rc, "", stderr)


@dataclass
class FakeWorld:
    network: str
    k3d_schema: dict[str, Any] | None = None
    gpus: list[str] = field(default_factory=list)          # nvidia-smi csv lines
    runtimes: dict[str, Any] = field(default_factory=lambda: {"runc": {"path": "runc"}})
    admin_password: str = "Xq3-initial-pass"
    calls: list[Call] = field(default_factory=list)
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    images: set[str] = field(default_factory=set)
    unpullable: set[str] = field(default_factory=set)     # `docker pull` of these fails (no such tag)
    node_images: set[str] = field(default_factory=set)    # in the k3d node's containerd
    _copied: dict[str, list[str]] = field(default_factory=dict)  # docker cp into the node, by path
    networks: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.networks.add(self.network)

    # --- the runner --------------------------------------------------------------------------------
    def __call__(self, argv: Any, *, input: str | None = None, timeout: float | None = None,
                 env: Any = None) -> Completed:
        call = Call(tuple(argv), input)
        self.calls.append(call)
        words = call.words()
        handler = {"k3d": self._k3d, "kubectl": self._kubectl, "docker": self._docker,
                   "nvidia-smi": self._smi}.get(words[0])
        assert handler, f"unexpected program: {call}"
        result = handler(words[1:], input)
        return Completed(tuple(argv), result.returncode, result.stdout, result.stderr)

    def pull(self, image: str) -> None:
        """The engine pull the compose layer makes (python-on-whales), recorded as its CLI form."""
        done = self(["docker", "pull", image])
        if not done.ok:
            raise EngineError(f"image {image} (k3s node) is not available locally and cannot be pulled: "
                              f"{done.stderr.strip()}", hint=f"docker pull {image}")

    def record(self, *words: str) -> None:
        """For fakes outside the process boundary (edge, Gitea hook) to log into the same list."""
        self.calls.append(Call(words))

    def since(self, mark: int) -> list[Call]:
        return self.calls[mark:]

    # --- nvidia-smi / docker -----------------------------------------------------------------------
    def _smi(self, args: list[str], stdin: str | None) -> Completed:
        assert args == ["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"], args
        return _ok("".join(f"{line}\n" for line in self.gpus)) if self.gpus else _fail(
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", 9)

    def _docker(self, args: list[str], stdin: str | None) -> Completed:
        if args[:2] == ["network", "inspect"]:
            if args[2] in self.networks:
                return _ok(json.dumps([{"Name": args[2], "Driver": "bridge"}]))
            return _fail(f"Error response from daemon: network {args[2]} not found")
        if args[:2] == ["image", "inspect"]:
            if args[2] in self.images:
                return _ok(json.dumps([{"RepoTags": [args[2]]}]))
            return _fail(f"Error response from daemon: No such image: {args[2]}")
        if args[0] == "pull":
            if args[1] in self.unpullable:
                return _fail(f"Error response from daemon: manifest for {args[1]} not found: manifest unknown")
            self.images.add(args[1])
            return _ok(f"{args[1].rsplit(':', 1)[-1]}: Pulling from {args[1]}\nStatus: Downloaded newer image\n")
        if args[0] == "build":
            tag = args[args.index("-t") + 1]
            assert Path(args[-1], "Dockerfile").is_file(), f"build context without Dockerfile: {args[-1]}"
            self.images.add(tag)
            return _ok(f"Successfully tagged {tag}\n")
        if args[:2] == ["ps", "-a"]:
            return _ok(self._ps(args[2:]))
        if args[0] in ("save", "cp") or args[0] == "exec" and args[2] in ("ctr", "rm"):
            return self._node_import(args)
        if args[0] == "exec" and args[2:] == ["crictl", "images", "-o", "json"]:
            assert args[1].removeprefix("k3d-").removesuffix("-server-0") in self.clusters, args
            return _ok(json.dumps({"images": [{"repoTags": [ref]} for ref in sorted(self.node_images)]}))
        if args[:3] == ["info", "--format", "{{json .Runtimes}}"]:
            return _ok(json.dumps(self.runtimes) + "\n")
        raise AssertionError(f"unexpected docker command: {args}")

    def _node_import(self, args: list[str]) -> Completed:
        """`docker save -o F REF...` writes a real Docker archive (tags only); `docker cp F NODE:P` and
        `docker exec NODE ctr -n k8s.io images import P` put its tags into the node."""
        import tarfile

        if args[0] == "save":
            absent = [r for r in args[3:] if r not in self.images]
            if absent:
                return _fail(f"Error response from daemon: No such image: {absent[0]}")
            write_docker_archive(Path(args[2]), args[3:])
            return _ok("")
        if args[0] == "cp":
            node, _, inside = args[2].partition(":")
            assert node.removeprefix("k3d-").removesuffix("-server-0") in self.clusters, args
            with tarfile.open(args[1]) as tar:
                self._copied = {inside: [t for e in json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
                                         for t in e["RepoTags"]]}
            return _ok("")
        if args[2] == "rm":
            return _ok("")
        assert args[2:7] == ["ctr", "-n", "k8s.io", "images", "import"] and "--all-platforms" not in args, args
        self.node_images.update(self._copied.pop(args[7]))
        return _ok("")

    def _ps(self, args: list[str]) -> str:
        """`docker ps -a --filter label=K=V ... --format {{.Names}}` over the k3d node containers: k3d
        puts k3d.cluster / k3d.role on each node and copies the config's runtime labels onto them."""
        assert args[-2:] == ["--format", "{{.Names}}"], args
        wanted = [args[i + 1].removeprefix("label=") for i, a in enumerate(args) if a == "--filter"]
        names = []
        for name, c in self.clusters.items():
            runtime = ((c["config"].get("options") or {}).get("runtime") or {}).get("labels") or []
            extra = [entry["label"] for entry in runtime]
            for node in self._cluster_json(name)["nodes"]:
                labels = {f"k3d.cluster={name}", f"k3d.role={node['role']}", *extra}
                if all(w in labels for w in wanted):
                    names.append(node["name"])
        return "".join(f"{n}\n" for n in names)

    # --- k3d ---------------------------------------------------------------------------------------
    def _k3d(self, args: list[str], stdin: str | None) -> Completed:
        if args == ["cluster", "list", "-o", "json"]:
            return _ok(json.dumps([self._cluster_json(n) for n in self.clusters]))
        if args[:3] == ["cluster", "create", "--config"]:
            doc = yaml.safe_load(Path(args[3]).read_text())
            if self.k3d_schema is not None:
                jsonschema.Draft7Validator(self.k3d_schema).validate(doc)
            name = doc["metadata"]["name"]
            if name in self.clusters:
                return _fail(f'FATA[0000] Failed to create cluster \'{name}\' because a cluster with that name already exists')
            if doc["network"] not in self.networks:
                self.networks.add(doc["network"])  # what real k3d does: it would make its own network
            self.clusters[name] = {"config": doc, "running": True}
            # k3d writes the hostAliases into CoreDNS NodeHosts after the nodes' own entries
            hosts = "172.30.80.2 k3d-" + name + "-server-0\n" + "".join(
                f"{a['ip']} {h}\n" for a in doc.get("hostAliases", []) for h in a["hostnames"])
            self.put({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "coredns", "namespace": "kube-system"}, "data": {"NodeHosts": hosts}})
            return _ok(f"INFO[0020] Cluster '{name}' created successfully!\n")
        if args[:2] == ["cluster", "edit"]:
            return self._k3d_edit(args[2], args[3:])
        if args[0] == "cluster" and args[1] in {"start", "stop", "delete"}:
            name = args[2]
            if name not in self.clusters:
                return _fail(f"FATA[0000] failed to get cluster {name}: No nodes found for given cluster")
            if args[1] == "delete":
                del self.clusters[name]
            else:
                self.clusters[name]["running"] = args[1] == "start"
            return _ok(f"INFO[0001] {args[1]} cluster '{name}'\n")
        if args[:2] == ["image", "import"]:
            return self._k3d_import(args[2:])
        if args[:2] == ["kubeconfig", "get"]:
            name = args[2]
            if name not in self.clusters:
                return _fail(f"FATA[0000] failed to get cluster {name}: No nodes found for given cluster")
            port = self.clusters[name]["config"]["kubeAPI"]["hostPort"]
            return _ok(_kubeconfig(name, port))
        raise AssertionError(f"unexpected k3d command: {args}")

    def _k3d_import(self, args: list[str]) -> Completed:
        """k3d v5.9.0 `image import`: --mode tools (its default) would start a k3d-tools container,
        pulled from ghcr.io; --mode direct streams `docker save` into the node (cmd/image/imageImport.go)."""
        mode = args[args.index("--mode") + 1] if "--mode" in args else "tools-node"
        cluster = args[args.index("--cluster") + 1]
        refs = [a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1] not in ("--mode", "--cluster")]
        if cluster not in self.clusters:
            return _fail(f"FATA[0000] failed to get cluster {cluster}")
        if mode != "direct" and "ghcr.io/k3d-io/k3d-tools:5.9.0" not in self.images:
            return _fail("ERRO[0000] failed to pull image 'ghcr.io/k3d-io/k3d-tools:5.9.0'")
        absent = [r for r in refs if r not in self.images]
        if absent:
            return _fail(f"ERRO[0000] failed to save image(s) {absent}: No such image")
        self.node_images.update(refs)
        return _ok(f"INFO[0003] Successfully imported {len(refs)} image(s) into 1 cluster(s)\n")

    def _k3d_edit(self, name: str, flags: list[str]) -> Completed:
        """`k3d cluster edit NAME --port-add [HOST:]HOSTPORT:NODEPORT@loadbalancer ...` (serverlb only)."""
        if name not in self.clusters:
            return _fail(f"FATA[0000] failed to get cluster {name}: No nodes found for given cluster")
        ports = self.clusters[name]["config"].setdefault("ports", [])
        taken = {p["port"].rsplit(":", 2)[-2] for p in ports}
        assert flags and len(flags) % 2 == 0 and set(flags[::2]) == {"--port-add"}, flags
        for spec in flags[1::2]:
            mapping, _, node_filter = spec.partition("@")
            assert node_filter == "loadbalancer", f"k3d edits ports on the serverlb only: {spec}"
            host_port = mapping.rsplit(":", 2)[-2]
            if host_port in taken:
                return _fail(f"FATA[0000] port {host_port} is already mapped")
            ports.append({"port": mapping, "nodeFilters": ["loadbalancer"]})
            taken.add(host_port)
        return _ok(f"INFO[0003] Successfully updated cluster '{name}'\n")

    def _cluster_json(self, name: str) -> dict[str, Any]:
        c = self.clusters[name]
        agents = int(c["config"].get("agents", 0))
        running = c["running"]
        nodes = [{"name": f"k3d-{name}-server-0", "role": "server", "State": {"Running": running,
                  "Status": "running" if running else "exited"}}]
        nodes += [{"name": f"k3d-{name}-agent-{i}", "role": "agent", "State": {"Running": running,
                   "Status": "running" if running else "exited"}} for i in range(agents)]
        nodes.append({"name": f"k3d-{name}-serverlb", "role": "loadbalancer", "State": {"Running": running,
                      "Status": "running" if running else "exited"}})
        return {"name": name, "network": c["config"]["network"], "nodes": nodes,
                "serversRunning": 1 if running else 0, "serversCount": 1,
                "agentsRunning": agents if running else 0, "agentsCount": agents,
                "hasLoadbalancer": True, "imageVolume": f"k3d-{name}-images"}

    # --- kubectl -----------------------------------------------------------------------------------
    def _kubectl(self, args: list[str], stdin: str | None) -> Completed:
        assert self.clusters and all(c["running"] for c in self.clusters.values()), \
            "kubectl called while no cluster runs"
        if args[0] == "get":
            return self._get(args[1:])
        if args[0] == "apply":
            return self._apply(args[1:], stdin)
        if args[:2] == ["rollout", "restart"]:
            return _ok(f"{args[2].replace('deployment/', 'deployment.apps/')} restarted\n")
        if args[:2] == ["rollout", "status"]:
            return _ok(f'deployment "{args[2].split("/")[1]}" successfully rolled out\n')
        raise AssertionError(f"unexpected kubectl command: {args}")

    def _get(self, args: list[str]) -> Completed:
        if args[0] == "-f":
            names = []
            files = [Path(args[i + 1]) for i, a in enumerate(args) if a == "-f"]
            for doc in _docs_in(files):
                key = _key(doc)
                if key not in self.objects:
                    return _fail(f'Error from server (NotFound): {doc["kind"].lower()}s.argoproj.io '
                                 f'"{doc["metadata"]["name"]}" not found')
                names.append(f'{doc["kind"].lower()}.argoproj.io/{doc["metadata"]["name"]}')
            return _ok("\n".join(names) + "\n")
        if "--all-namespaces" in args:
            kind = {"pods": "Pod", "events": "Event"}[args[0]]
            items = [o for k, o in self.objects.items() if k[0] == kind]
            return _ok(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
        kind, plural = KINDS[args[0]]
        name = args[1]
        ns = args[args.index("-n") + 1] if "-n" in args else ""
        obj = self.objects.get((kind, "" if kind in CLUSTER_SCOPED else ns, name))
        if obj is None:
            return _fail(f'Error from server (NotFound): {plural} "{name}" not found')
        return _ok(json.dumps(obj))

    def _apply(self, args: list[str], stdin: str | None) -> Completed:
        assert "--server-side" in args, f"client-side apply would store secrets in an annotation: {args}"
        ns = args[args.index("-n") + 1] if "-n" in args else ""
        source = args[args.index("-f") + 1]
        if source == ARGOCD_INSTALL_URL:
            self._install_argocd(ns)
            return _ok("customresourcedefinition.apiextensions.k8s.io/applications.argoproj.io serverside-applied\n")
        if source == "-":
            docs = [d for d in yaml.safe_load_all(stdin or "") if d]
        else:
            docs = list(_docs_in([Path(source)]))
        out = []
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc.setdefault("metadata", {}).setdefault("namespace", ns or "default")
            key = _key(doc)
            self.objects[key] = _merge(self.objects.get(key, {}), doc)
            out.append(f'{doc["kind"].lower()}/{doc["metadata"]["name"]} serverside-applied')
        return _ok("\n".join(out) + "\n")

    def _install_argocd(self, ns: str) -> None:
        assert ns == "argocd" and ("Namespace", "", "argocd") in self.objects
        image = f"quay.io/argoproj/argocd:{ARGOCD_VERSION}"
        self.put({"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "argocd-server", "namespace": ns},
                  "spec": {"template": {"spec": {"containers": [{"name": "argocd-server", "image": image}]}}},
                  "status": {"availableReplicas": 1, "readyReplicas": 1}})
        self.put({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "argocd-cmd-params-cm", "namespace": ns}})
        self.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "argocd-cm", "namespace": ns,
            "labels": {"app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd"}}})
        self.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "argocd-server", "namespace": ns},
                  "spec": {"type": "ClusterIP", "ports": [
                      {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                      {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8080}]}})
        self.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "argocd-secret", "namespace": ns},
                  "type": "Opaque"})
        self.put({"apiVersion": "v1", "kind": "Secret",
                  "metadata": {"name": "argocd-initial-admin-secret", "namespace": ns}, "type": "Opaque",
                  "data": {"password": base64.b64encode(self.admin_password.encode()).decode()}})

    def put(self, obj: dict[str, Any]) -> None:
        self.objects[_key(obj)] = obj

    def get(self, kind: str, ns: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((kind, ns, name))


def _key(doc: dict[str, Any]) -> tuple[str, str, str]:
    ns = "" if doc["kind"] in CLUSTER_SCOPED else doc.get("metadata", {}).get("namespace", "default")
    return doc["kind"], ns, doc["metadata"]["name"]


def _docs_in(paths: list[Path]) -> list[dict[str, Any]]:
    docs = []
    for path in paths:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for f in files:
            docs += [d for d in yaml.safe_load_all(f.read_text()) if d]
    return docs


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Server-side apply, roughly: maps merge key by key; Service ports merge by port number."""
    out = copy.deepcopy(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        elif key == "ports" and isinstance(value, list) and isinstance(out.get(key), list):
            by_port = {p["port"]: p for p in out[key]}
            for port in value:
                by_port[port["port"]] = _merge(by_port.get(port["port"], {}), port)
            out[key] = list(by_port.values())
        else:
            out[key] = copy.deepcopy(value)
    return out


def _kubeconfig(name: str, port: str) -> str:
    ctx = f"k3d-{name}"
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": ctx, "preferences": {},
        "clusters": [{"name": ctx, "cluster": {"server": f"https://127.0.0.1:{port}",
                                               "certificate-authority-data": "LS0tLS1CRUdJTi..."}}],
        "contexts": [{"name": ctx, "context": {"cluster": ctx, "user": f"admin@{ctx}"}}],
        "users": [{"name": f"admin@{ctx}", "user": {"client-certificate-data": "LS0t", "client-key-data": "LS0t"}}],
    })


# --- Argo CD ---------------------------------------------------------------------------------------
def app(name: str, sync: str, health: str, conditions: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """One item of `GET /api/v1/applications`, shaped like Argo CD's v1alpha1 Application."""
    status: dict[str, Any] = {"sync": {"status": sync, "revision": "4f2a9c1"}, "health": {"status": health}}
    if conditions:
        status["conditions"] = conditions
    return {"metadata": {"name": name, "namespace": "argocd"},
            "spec": {"project": "platform", "destination": {"server": "https://kubernetes.default.svc"}},
            "status": status}


class FakeArgoCD:
    """Serves snapshots of the application list, one per `GET /api/v1/applications` (the last repeats)."""

    def __init__(self, password: str, snapshots: list[list[dict[str, Any]]]) -> None:
        self.password = password
        self.snapshots = snapshots
        self.token = "eyJhbGciOiJIUzI1NiJ9.fake.session"
        self.requests: list[tuple[str, str]] = []
        self.refreshed: list[tuple[str, str]] = []
        self.synced: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeArgoCD:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _current(self) -> list[dict[str, Any]]:
        return self.snapshots.pop(0) if len(self.snapshots) > 1 else self.snapshots[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _send(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self._send(401, {"error": "no session information", "code": 16})
                    return False
                return True

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"null")

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                fake.requests.append(("POST", parts.path))
                if parts.path == "/api/v1/session":
                    body = self._body()
                    if set(body) != {"username", "password"}:
                        return self._send(400, {"error": "unknown fields", "code": 3})
                    if body["username"] != "admin" or body["password"] != fake.password:
                        return self._send(401, {"error": "Invalid username or password", "code": 16})
                    return self._send(200, {"token": fake.token})
                if parts.path.startswith("/api/v1/applications/") and parts.path.endswith("/sync"):
                    if not self._authorized():
                        return None
                    name = parts.path.split("/")[4]
                    body = self._body()
                    if body.get("name") != name:
                        return self._send(400, {"error": "name mismatch", "code": 3})
                    fake.synced.append(body)
                    return self._send(200, app(name, "OutOfSync", "Progressing"))
                return self._send(404, {"error": "Not Found", "code": 5})

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                fake.requests.append(("GET", parts.path))
                if not self._authorized():
                    return None
                if parts.path == "/api/v1/applications":
                    return self._send(200, {"metadata": {"resourceVersion": "1"}, "items": fake._current()})
                if parts.path.startswith("/api/v1/applications/"):
                    name = parts.path.split("/")[4]
                    refresh = parse_qs(parts.query).get("refresh", [""])[0]
                    if refresh not in {"", "normal", "hard"}:
                        return self._send(400, {"error": "invalid refresh", "code": 3})
                    fake.refreshed.append((name, refresh))
                    items = {i["metadata"]["name"]: i for i in fake.snapshots[0]}
                    if name not in items:
                        return self._send(404, {"error": f'applications.argoproj.io "{name}" not found', "code": 5})
                    return self._send(200, items[name])
                return self._send(404, {"error": "Not Found", "code": 5})

        return Handler


class FakeEdge:
    """The compose layer's edge service, as the cluster layer sees it."""

    def __init__(self, world: FakeWorld) -> None:
        self.world, self.up = world, False

    def running(self, ctx: Any) -> bool:
        return self.up

    def start(self, ctx: Any) -> None:
        self.world.record("edge", "start")
        self.up = True


class FakeGiteaHooks:
    """Gitea's hooks of platform/gitops, as the registrar callable sees them."""

    def __init__(self, world: FakeWorld) -> None:
        self.world = world
        self.hooks: dict[str, dict[str, Any]] = {}

    def exists(self, ctx: Any, url: str) -> bool:
        return url in self.hooks

    def create(self, ctx: Any, url: str, secret: str) -> None:
        from gitopslab.stack.argocd_layer import gitea_hook_body

        self.world.record("gitea", "create-hook", url)
        self.hooks[url] = gitea_hook_body(url, secret)


def write_docker_archive(path: Path, tags: list[str]) -> None:
    """A minimal real `docker save` archive: one image with these tags (one config, one layer)."""
    import hashlib
    import io
    import tarfile

    layer = b"\0" * 1024
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode()
    name = hashlib.sha256(config).hexdigest() + ".json"
    with tarfile.open(path, "w") as tar:
        for member, data in ((name, config), ("l/layer.tar", layer),
                             ("manifest.json", json.dumps([{"Config": name, "RepoTags": tags,
                                                            "Layers": ["l/layer.tar"]}]).encode())):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
