"""The log: `-v` prints debug lines on stderr; `up` writes every command it runs and every HTTP call to
<state>/logs/up-<time>.log (0600), with every secret removed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECRET = "Zq8-known-secret-4711"


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str]] = []

    def _answer(self, status: int) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.seen.append((self.command, self.path, self.headers.get("authorization", "") + body))
        self.send_response(status)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer(404)

    def do_POST(self) -> None:  # noqa: N802
        self._answer(201)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    _Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}", _Recorder.seen
    httpd.shutdown()
    httpd.server_close()


def test_up_logs_commands_and_http_calls_to_a_private_file_without_secrets(
        tmp_path: Path, server: tuple[str, list[tuple[str, str, str]]]) -> None:
    address, seen = server
    # A PATH with git only: preflight runs `git --version` (a subprocess) and stops, nothing created; with
    # the engine down too, `up` offers no download (the HTTP log lines: the redaction test below).
    # The tools mirror URL carries a password: it must reach no log line.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    lab = "logtest"
    env = {**os.environ, "PATH": str(bindir), "NO_COLOR": "1", "PYTHONPATH": str(REPO), "GITOPSLAB_NAME": lab,
           "GITOPSLAB_TOOLS_BASE_URL": f"http://mirror:{SECRET}@{address}"}
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "-v", "up", "--yes"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    logs = list((Path(os.environ["GITOPSLAB_STATE_DIR"]) / lab / "logs").glob("up-*.log"))
    assert len(logs) == 1
    assert logs[0].stat().st_mode & 0o777 == 0o600
    text = logs[0].read_text()
    assert "gitopslab.drivers.proc" in text or "gitopslab.doctor.probe" in text
    assert "run: git --version" in text
    # -v: the same debug lines on stderr; the secret nowhere
    assert "DEBUG gitopslab" in proc.stderr and "run: git --version" in proc.stderr
    for where in (text, proc.stderr, proc.stdout):
        assert SECRET not in where
    assert f"log: {logs[0]}" in proc.stderr


def test_without_verbose_no_debug_lines(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "doctor", "--only", "host"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    assert "DEBUG" not in proc.stderr + proc.stdout


def test_http_bodies_headers_and_stored_credentials_are_redacted(
        tmp_path: Path, server: tuple[str, list[tuple[str, str, str]]]) -> None:
    from gitopslab import logsetup
    from gitopslab.clients.http import make_client
    from gitopslab.drivers.proc import run
    from gitopslab.state import LabState

    address, seen = server
    state = LabState("redact", tmp_path / "state")
    state.dir.mkdir(parents=True)
    state.secrets_file.write_text(json.dumps({"gitea_token": SECRET}))
    logsetup.configure(verbose=False)
    with logsetup.to_file(state, "up") as path:
        with make_client(f"http://{address}", headers={"Authorization": f"token {SECRET}"}) as client:
            client.post("/api/v1/users", json={"username": "ada", "password": "pw-" + SECRET, "note": SECRET})
            client.post("/login/oauth", data={"user": "ada", "client_secret": "form-" + SECRET})
        run([sys.executable, "-c", "pass", f"--password={SECRET}"])
    logsetup.configure(verbose=False)
    text = path.read_text()
    assert len(seen) == 2 and SECRET in seen[0][2]  # the server did get the secret
    assert f"http: POST http://{address}/api/v1/users (authorization: token, value hidden) body: " in text
    assert '{"username": "ada", "password": "***", "note": "***"}' in text
    assert "user=ada" in text and "client_secret=***" in text
    assert "HTTP Request: POST" in text and "201 Created" in text
    assert "run: " in text and "exit 0" in text
    assert SECRET not in text


RACER = """
import sys, time
from pathlib import Path
from gitopslab import logsetup
from gitopslab.state import LabState
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # every racer starts at the same moment
with logsetup.to_file(LabState("race", Path(sys.argv[1])), "up") as path:
    print(path.name)
"""


def test_commands_started_in_the_same_second_get_their_own_log_files(tmp_path: Path) -> None:
    # Issue 23 item 16: two racers picked the same free name and one died with FileExistsError.
    import time

    start = time.time() + 3
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path), str(start)], env=os.environ.copy(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(10)]
    names = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err[-2000:]
        names.append(out.strip())
    assert len(set(names)) == 10, names
    assert sorted(p.name for p in (tmp_path / "race" / "logs").glob("up-*.log")) == sorted(names)
