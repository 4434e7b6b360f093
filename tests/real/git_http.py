"""A smart-HTTP git server on 127.0.0.1 (`git http-backend` behind a tiny threaded server) that stands
in for Gitea where only git matters: Argo CD's repo-server lists refs with go-git, which speaks only the
smart protocol. It accepts any credentials (Argo CD sends the repository Secret's as basic auth).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def make_handler(root: Path) -> type[BaseHTTPRequestHandler]:
    class GitHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            pass  # requests are visible in git's own errors; keep the test output clean

        def _backend(self) -> None:
            path, _, query = self.path.partition("?")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            env = {**os.environ, "GIT_PROJECT_ROOT": str(root), "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path,
                   "QUERY_STRING": query, "REQUEST_METHOD": self.command, "REMOTE_USER": "gitopslab",
                   "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body))}
            if self.headers.get("Git-Protocol"):
                env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
            done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60)
            head, _, payload = done.stdout.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = done.stdout.partition(b"\n\n")
            headers = [line.split(":", 1) for line in head.decode(errors="replace").splitlines() if ":" in line]
            status = next((v.strip() for k, v in headers if k.lower() == "status"), "200 OK")
            self.send_response(int(status.split()[0]))
            for key, value in headers:
                if key.lower() != "status":
                    self.send_header(key, value.strip())
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _backend
        do_POST = _backend

    return GitHandler


class GitHTTPServer:
    """Serves every bare repository under `root` at http://127.0.0.1:PORT/<path>."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(root))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GitHTTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def publish(tree: Path, bare: Path, message: str) -> str:
    """Commit `tree` as the next commit of `bare`'s main branch (a clone beside it); return the commit id."""
    if not bare.exists():
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    work = bare.with_suffix(".work")
    git = ["git", "-C", str(work), "-c", "user.name=gitopslab-test", "-c", "user.email=test@gitopslab.invalid"]
    if not work.exists():
        subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
        subprocess.run([*git, "remote", "add", "origin", str(bare)], check=True)
    for old in work.iterdir():  # the commit holds exactly `tree`: deletions included
        if old.name != ".git":
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    shutil.copytree(tree, work, dirs_exist_ok=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], check=True)
    subprocess.run([*git, "push", "-q", "origin", "main"], check=True, capture_output=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
