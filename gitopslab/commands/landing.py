"""The lab's landing page: one page on 127.0.0.1 with every service's URL, its user name, a button that
copies its password, and a live status dot per service (`gitopslab open`).

The page shows credentials, so it is guarded twice: its path holds a random token that only the
person who ran `gitopslab open` sees, and a request whose Host header is not the server's own
loopback address is refused (no DNS-rebinding page can read it).

The token never reaches a program's argv (every local user reads /proc/*/cmdline): the browser is
handed a file only this user can read (`redirect_file`, 0600 in a 0700 folder) that sends it to a
one-time sign-in address; that address answers once, with a redirect to the page, and the file is
deleted then. A code read or replayed later gets a 404 that says to run `gitopslab open` again.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import secrets as _random
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from gitopslab.clients import loopback
from gitopslab.model.topology import Service, Topology


@dataclass(frozen=True)
class Entry:
    key: str
    title: str
    url: str
    user: str
    password: str


# service key -> (user, secret name in the state dir); the user "admin" means the lab's admin user.
LOGINS = {
    "gitea": ("admin", "gitea_admin_password"),
    "argocd": ("argocd-admin", "argocd_admin_password"),
    "minio_console": ("minio", "minio_root_password"),
    "grafana": ("grafana-admin", "grafana_admin_password"),
}


def entries(topo: Topology, secrets: dict[str, str], admin_user: str) -> list[Entry]:
    out = []
    for svc in topo.services:
        user, key = LOGINS.get(svc.key, ("", ""))
        user = {"admin": admin_user, "argocd-admin": "admin", "grafana-admin": "admin",
                "minio": secrets.get("minio_root_user", "")}.get(user, user)
        if svc.key == "woodpecker":
            user = "sign in with Gitea"
        if svc.key == "dashboard":  # Headlamp asks for a token; `creds` prints the command that makes one
            user = "token: gitopslab creds"
        out.append(Entry(svc.key, svc.title, browser_url(svc), user, secrets.get(key, "") if key else ""))
    return out


def browser_url(svc: Service) -> str:
    """What a link opens: the registry has no page and no scheme in its address (registry.localhost:5002,
    as docker names it), so its link is its catalog over http."""
    return f"http://{svc.address}/v2/_catalog" if svc.key == "registry" else svc.url


def probe(svc: Service, timeout: float = 1.5) -> str:
    """'up' when the service answers its health URL through the published port, else 'down'."""
    try:
        answer = loopback.request(svc, timeout=timeout)
    except httpx.HTTPError:
        return "down"
    return "up" if answer.status_code < 500 else "down"


def statuses(topo: Topology, check: Callable[[Service], str] = probe) -> dict[str, str]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = dict(zip([s.key for s in topo.services], pool.map(check, topo.services), strict=True))
    return found


def render_page(lab: str, rows: list[Entry], token: str) -> str:
    body = "\n".join(
        f'<tr data-key="{html.escape(r.key)}"><td><span class="dot" id="dot-{html.escape(r.key)}">●</span> '
        f'<span class="state" id="state-{html.escape(r.key)}">…</span></td>'
        f"<td>{html.escape(r.title)}</td>"
        f'<td><a href="{html.escape(r.url)}" target="_blank" rel="noopener">{html.escape(r.url)}</a></td>'
        f"<td>{html.escape(r.user) or '—'}</td>"
        + (f'<td><input type="password" readonly value="{html.escape(r.password)}" id="pw-{html.escape(r.key)}">'
           f'<button onclick="copyPw(\'{html.escape(r.key)}\')">copy password</button></td>' if r.password
           else "<td>—</td>")
        + "</tr>"
        for r in rows)
    return PAGE.replace("{{LAB}}", html.escape(lab)).replace("{{ROWS}}", body).replace(
        "{{STATUS}}", f"/{token}/status.json")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gitopslab: {{LAB}}</title>
<style>
body { font-family: "DejaVu Sans", sans-serif; margin: 2rem; color: #1d2433; }
h1 { font-size: 1.4rem; } table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .45rem .7rem; border-bottom: 1px solid #dde2ea; }
th { background: #f3f5f9; } .dot { color: #9aa3b2; } .up .dot { color: #1a9f45; } .down .dot { color: #c92a2a; }
input { width: 11rem; border: 1px solid #ccd; padding: .2rem; } button { margin-left: .4rem; }
#copied { color: #1a9f45; margin-left: 1rem; }
</style></head>
<body><h1>gitopslab lab <code>{{LAB}}</code> <span id="copied"></span></h1>
<table><thead><tr><th>status</th><th>service</th><th>URL</th><th>user</th><th>password</th></tr></thead>
<tbody>
{{ROWS}}
</tbody></table>
<p id="next" hidden><strong>No service answers: the lab is not running.</strong> Start it with
<code>gitopslab up</code> (it resumes where it stopped); <code>gitopslab doctor</code> names what is broken.</p>
<p>Status refreshes every 5 s. Credentials: also <code>gitopslab creds</code>. Stop this page with Ctrl-C.</p>
<script>
function copyPw(key) {
  const field = document.getElementById("pw-" + key);
  navigator.clipboard.writeText(field.value).then(() => {
    document.getElementById("copied").textContent = "password copied";
  });
}
async function refresh() {
  try {
    const answer = await fetch("{{STATUS}}", {cache: "no-store"});
    const found = await answer.json();
    for (const [key, state] of Object.entries(found)) {
      const row = document.querySelector('tr[data-key="' + key + '"]');
      if (!row) continue;
      row.className = state;
      document.getElementById("state-" + key).textContent = state;
    }
    const states = Object.values(found);
    document.getElementById("next").hidden = !(states.length && states.every(s => s === "down"));
  } catch (e) { /* the page stays as it was; the next refresh tries again */ }
}
refresh(); setInterval(refresh, 5000);
</script></body></html>
"""


# Any local user can connect to 127.0.0.1: 1000 idle connections were 1000 threads. Each connection
# now gets at most IDLE_TIMEOUT seconds of silence, and at most MAX_THREADS are served at once (more
# are closed at once; the browser's page needs two).
IDLE_TIMEOUT = 10.0
MAX_THREADS = 16


class _BoundedServer(ThreadingHTTPServer):
    request_queue_size = 64  # the listen backlog: a burst is accepted (and closed) rather than left in SYN retries

    def __init__(self, address: tuple[str, int], handler: Any, max_threads: int) -> None:
        self._slots = threading.BoundedSemaphore(max_threads)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


SIGN_IN_TTL = 300.0  # seconds a browser has to follow the redirect file (a cold browser start included)

REDIRECT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0; url={url}"><title>gitopslab</title></head>
<body><p>Opening the lab's landing page: <a href="{url}">continue</a>.</p></body></html>
"""


def redirect_file(url: str) -> Path:
    """A page that sends the browser to `url`, in a new folder (0700) as a file (0600) only this user
    can read: what the browser's argv carries instead of the address itself."""
    folder = Path(tempfile.mkdtemp(prefix="gitopslab-open-"))
    path = folder / "landing.html"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(REDIRECT.format(url=html.escape(url)))
    return path


def hand_off(server: LandingServer) -> Path:
    """The file to give the browser: it signs in once, and is deleted as soon as it has."""
    made: list[Path] = []
    made.append(redirect_file(server.sign_in_url(on_use=lambda: remove_redirect(made[0]))))
    return made[0]


def remove_redirect(path: Path) -> None:
    """The redirect file and its folder, once used (or when `open` ends)."""
    with contextlib.suppress(OSError):
        path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()


class LandingServer:
    """Serves the page on 127.0.0.1 in a background thread until `close()`."""

    def __init__(self, lab: str, rows: list[Entry], status: Callable[[], dict[str, str]], port: int = 0,
                 idle_timeout: float | None = None, max_threads: int | None = None) -> None:
        self.token = _random.token_urlsafe(16)
        page = render_page(lab, rows, self.token).encode()
        token = self.token
        self._codes: dict[str, tuple[float, Callable[[], None] | None]] = {}  # one-time code -> (deadline, on use)
        self._codes_lock = threading.Lock()
        redeem = self._redeem

        class Handler(BaseHTTPRequestHandler):
            timeout = IDLE_TIMEOUT if idle_timeout is None else idle_timeout  # a socket that sends nothing is dropped, and its thread ends

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                host, port = self.headers.get("Host", ""), self.server.server_port  # type: ignore[attr-defined]
                if host not in {f"127.0.0.1:{port}", f"localhost:{port}"}:
                    self._send(403, b"refused: this page answers only to its own 127.0.0.1 address\n", "text/plain")
                elif self.path in {f"/{token}/", f"/{token}"}:
                    self._send(200, page, "text/html; charset=utf-8")
                elif self.path == f"/{token}/status.json":
                    self._send(200, json.dumps(status()).encode(), "application/json")
                elif self.path.startswith("/sign-in/"):
                    if redeem(self.path.removeprefix("/sign-in/")):
                        self.send_response(303)
                        self.send_header("Location", f"/{token}/")
                        self.send_header("Cache-Control", "no-store")
                        self.send_header("Referrer-Policy", "no-referrer")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    else:
                        self._send(404, b"this sign-in address was used already or has expired: "
                                        b"run `gitopslab open` again\n", "text/plain")
                else:
                    self._send(404, b"not found\n", "text/plain")

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: no token in a terminal log
                return

        self.httpd = _BoundedServer(("127.0.0.1", port), Handler, max_threads or MAX_THREADS)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The page itself: holds the token, so it is never handed to another program (sign_in_url)."""
        return f"http://127.0.0.1:{self.httpd.server_port}/{self.token}/"

    def sign_in_url(self, ttl: float = SIGN_IN_TTL, on_use: Callable[[], None] | None = None) -> str:
        """A new address that answers once, within `ttl` seconds, with a redirect to the page."""
        code = _random.token_urlsafe(16)
        with self._codes_lock:
            self._codes[code] = (time.monotonic() + ttl, on_use)
        return f"http://127.0.0.1:{self.httpd.server_port}/sign-in/{code}"

    def _redeem(self, code: str) -> bool:
        with self._codes_lock:
            deadline, on_use = self._codes.pop(code, (0.0, None))
        if time.monotonic() > deadline:
            return False
        if on_use is not None:
            on_use()
        return True

    def start(self) -> LandingServer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
