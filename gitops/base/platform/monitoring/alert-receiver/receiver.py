"""The lab's alert receiver: records Alertmanager webhook notifications so `gitopslab alerts` can list
what fired, without e-mail, chat or internet. Python standard library only (it runs from a ConfigMap
in a stock python image, and in tests as a plain process).

    POST /webhook   an Alertmanager webhook payload (version "4"); 200 when recorded, 400 when not
                    shaped like one, 413 when larger than 1 MiB
    GET  /alerts    {"notifications": [...]} oldest first; ?limit=N keeps the newest N
    GET  /healthz   "ok"

Each notification is stored as received plus `received_at` (UTC, ISO 8601). With ALERTS_FILE set,
notifications are appended to that file as JSON lines and read back at start, so a container restart
(emptyDir) keeps the history. At most MAX_NOTIFICATIONS are kept in memory.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 1 << 20
MAX_NOTIFICATIONS = int(os.environ.get("MAX_NOTIFICATIONS", "1000"))


class Store:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.items: collections.deque[dict] = collections.deque(maxlen=MAX_NOTIFICATIONS)
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    line = line.strip()
                    if line:
                        try:
                            self.items.append(json.loads(line))
                        except ValueError:  # a torn last line after a crash: skip it, keep the rest
                            continue

    def add(self, notification: dict) -> None:
        with self.lock:
            self.items.append(notification)
            if self.path:
                with open(self.path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(notification, sort_keys=True) + "\n")

    def list(self, limit: int | None) -> list[dict]:
        with self.lock:
            items = list(self.items)
        return items[-limit:] if limit else items


def problem(payload: object) -> str | None:
    """Why `payload` is not an Alertmanager webhook notification, or None when it is one."""
    if not isinstance(payload, dict):
        return "body must be a JSON object"
    if payload.get("status") not in ("firing", "resolved"):
        return "'status' must be 'firing' or 'resolved'"
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        return "'alerts' must be a list"
    for i, alert in enumerate(alerts):
        if not isinstance(alert, dict) or not isinstance(alert.get("labels"), dict):
            return f"alerts[{i}] must be an object with 'labels'"
        if alert.get("status") not in ("firing", "resolved"):
            return f"alerts[{i}].status must be 'firing' or 'resolved'"
    return None


class Handler(BaseHTTPRequestHandler):
    server_version = "gitopslab-alert-receiver/1"
    store: Store

    def _send(self, code: int, body: object) -> None:
        data = (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json" if not isinstance(body, str) else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self._send(200, "ok")
        elif url.path == "/alerts":
            raw = parse_qs(url.query).get("limit", ["0"])[0]
            limit = int(raw) if raw.isdigit() else 0
            self._send(200, {"notifications": self.store.list(limit)})
        else:
            self._send(404, {"error": f"no such path {url.path}; use /webhook, /alerts or /healthz"})

    def do_POST(self) -> None:  # noqa: N802
        if urlsplit(self.path).path != "/webhook":
            self._send(404, {"error": "POST notifications to /webhook"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, {"error": f"body over {MAX_BODY} bytes"})
            return
        try:
            payload = json.loads(self.rfile.read(length) or b"null")
        except ValueError as exc:
            self._send(400, {"error": f"body is not JSON: {exc}"})
            return
        why = problem(payload)
        if why:
            self._send(400, {"error": why})
            return
        payload["received_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.store.add(payload)
        self._send(200, {"recorded": len(payload["alerts"])})

    def log_message(self, fmt: str, *args: object) -> None:
        sys.stderr.write(f"{self.address_string()} {fmt % args}\n")


def serve(host: str, port: int, path: str | None) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"store": Store(path)})
    return ThreadingHTTPServer((host, port), handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--file", default=os.environ.get("ALERTS_FILE"))
    args = parser.parse_args(argv)
    server = serve(args.host, args.port, args.file)
    # The bound port on stdout lets a caller that asked for port 0 find it.
    print(f"listening on {server.server_address[0]}:{server.server_address[1]}", flush=True)
    # As PID 1 in a container, SIGTERM has no default action: handle it, or every stop waits 30 s.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
