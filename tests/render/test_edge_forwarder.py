"""Issue 11 item 7: the edge forwarder follows the k3d node to a new address (a node restarted by a
Docker or laptop restart), instead of the address it resolved once at start. A real nginx runs the
rendered config; a small DNS server stands in for Docker's embedded one and moves the node's name
from 127.0.0.2 to 127.0.0.3, where two stand-in "nodes" answer on the NodePort."""

from __future__ import annotations

import shutil
import socket
import socketserver
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render.names import DOCKER_DNS, render_edge
from tests.conftest import need

STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")  # Debian builds stream as a module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NodeDNS(socketserver.ThreadingUDPServer):
    """Answers A queries for one name with the address it currently holds (TTL 1); NXDOMAIN else."""

    def __init__(self, name: str, address: str) -> None:
        self.name, self.address = name.lower(), address
        super().__init__(("127.0.0.1", 0), self._Handler)

    class _Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data, sock = self.request
            server: NodeDNS = self.server  # type: ignore[assignment]
            qid, _flags, qd = struct.unpack(">HHH", data[:6])
            pos, labels = 12, []
            while data[pos]:
                labels.append(data[pos + 1:pos + 1 + data[pos]].decode())
                pos += 1 + data[pos]
            question = data[12:pos + 5]
            qtype = struct.unpack(">H", data[pos + 1:pos + 3])[0]
            known = ".".join(labels).lower() == server.name
            answer = b""
            if known and qtype == 1:
                answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 1, 4) + socket.inet_aton(server.address)
            rcode = 0 if known else 3
            header = struct.pack(">HHHHHH", qid, 0x8180 | rcode, qd, 1 if answer else 0, 0, 0)
            sock.sendto(header + question + answer, self.client_address)


def _node(address: str, port: int, word: bytes) -> socket.socket:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((address, port))
    srv.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.sendall(word)

    threading.Thread(target=serve, daemon=True).start()
    return srv


def _read(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.settimeout(3)
        return s.recv(16)


@pytest.fixture
def nginx_bin() -> str:
    exe = shutil.which("nginx") or (shutil.which("nginx", path="/usr/sbin:/usr/local/sbin") or "")
    need(bool(exe), "nginx is not installed (scripts/test.sh installs Debian's nginx-light + libnginx-mod-stream)")
    return exe


@pytest.fixture
def edge(tmp_path: Path, nginx_bin: str) -> Iterator[tuple[NodeDNS, int]]:
    keys = ("argocd", "hello_api", "mlflow", "minio_api", "minio_console", "dashboard")
    cfg = LabConfig(name="edge-test", ports={k: _free_port() for k in keys})
    topo = build(cfg)
    dns = NodeDNS(f"k3d-{topo.cluster_name}-server-0", "127.0.0.2")
    threading.Thread(target=dns.serve_forever, daemon=True).start()
    conf = render_edge(topo, resolver=f"127.0.0.1:{dns.server_address[1]}", valid_s=1)
    head = f"load_module {STREAM_MODULE};\n" if STREAM_MODULE.exists() else ""
    head += f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
    (tmp_path / "nginx.conf").write_text(head + conf)
    proc = subprocess.Popen([nginx_bin, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                             "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
    port = topo.service("argocd").port
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.1)
        yield dns, port
    finally:
        proc.terminate()
        proc.wait(10)
        dns.shutdown()
        dns.server_close()


def test_rendered_edge_names_the_node_through_a_resolver():
    topo = build(LabConfig())
    conf = render_edge(topo)
    assert f"resolver {DOCKER_DNS} valid=10s ipv6=off;" in conf
    assert f"map $server_port $gitopslab_node {{ default k3d-{topo.cluster_name}-server-0; }}" in conf
    for port, node_port in ((s.port, s.node_port) for s in topo.by_layer("cluster") if s.node_port):
        assert f"listen {port};\n        proxy_pass $gitopslab_node:{node_port};" in conf


def test_nginx_accepts_the_rendered_config(tmp_path, nginx_bin):
    head = f"load_module {STREAM_MODULE};\n" if STREAM_MODULE.exists() else ""
    (tmp_path / "nginx.conf").write_text(head + f"pid {tmp_path}/nginx.pid;\n" + render_edge(build(LabConfig())))
    out = subprocess.run([nginx_bin, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr


def test_edge_follows_the_node_to_its_new_address(edge):
    dns, port = edge
    node_port = build(LabConfig()).service("argocd").node_port
    first = _node("127.0.0.2", node_port, b"first")
    second = _node("127.0.0.3", node_port, b"second")
    try:
        assert _read(port) == b"first"
        dns.address = "127.0.0.3"  # the node came back from a restart with another address
        deadline = time.monotonic() + 8
        got = b""
        while time.monotonic() < deadline and got != b"second":
            time.sleep(0.3)
            got = _read(port)
        assert got == b"second"
    finally:
        first.close()
        second.close()
