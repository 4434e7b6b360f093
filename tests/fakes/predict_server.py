"""A stand-in for hello-api in the load tests (stdlib only; runs in gitopslab-base:bookworm):
POST /predict answers like hello-api, GET /count says how many /predict calls arrived, anything
else is 404. hello-api itself is built elsewhere; once pipelines/hello-api is on main it can replace this."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNT = {"predict": 0, "hosts": {}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body leave in two segments and wait 40 ms for an ACK

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/predict":
            self._send(404, {"detail": "Not Found"})
            return
        features = json.loads(raw)["features"]
        with LOCK:
            COUNT["predict"] += 1
            host = self.headers.get("Host", "")
            COUNT["hosts"][host] = COUNT["hosts"].get(host, 0) + 1
        self._send(200, {"class": "setosa" if features[2] < 2.5 else "versicolor", "model_version": "stand-in"})

    def do_GET(self):
        if self.path == "/count":
            with LOCK:
                self._send(200, COUNT)
        else:
            self._send(404, {"detail": "Not Found"})

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
