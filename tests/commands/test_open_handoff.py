"""Issue 23.9: `gitopslab open` handed the browser the page's token URL in its argv, which every local
user reads in /proc/*/cmdline (one did, and fetched every password). Now the browser's argv names a
0600 file in a 0700 folder; the file signs in once and is deleted; the token is in no argv."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gitopslab.state import LabState
from tests.support.compose_lab import free_ports
from tests.support.signals import ctrl_c_as_at_a_terminal

BROWSER = """#!{python}
import json, os, stat, sys
url = sys.argv[1]
path = url.removeprefix("file://")
seen = {{"argv": sys.argv, "mode": stat.S_IMODE(os.stat(path).st_mode),
         "folder_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), "text": open(path).read()}}
with open({log!r} + ".tmp", "w") as fh:
    json.dump(seen, fh)
os.replace({log!r} + ".tmp", {log!r})
"""

pytestmark = pytest.mark.timeout(180)  # a reader of the child's output waits no longer than this


def test_the_browser_gets_a_private_file_that_signs_in_once_and_never_the_token(tmp_path: Path) -> None:
    root = tmp_path / "state"
    secrets = LabState("gitopslab", root).secrets()
    log = tmp_path / "browser.json"
    browser = tmp_path / "browser"
    browser.write_text(BROWSER.format(python=sys.executable, log=str(log)))
    browser.chmod(0o755)
    [port] = free_ports(1, set())
    env = {**os.environ, "GITOPSLAB_STATE_DIR": str(root), "BROWSER": str(browser), "NO_COLOR": "1",
           "TMPDIR": str(tmp_path)}
    opened = subprocess.Popen([sys.executable, "-m", "gitopslab", "open", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                              preexec_fn=ctrl_c_as_at_a_terminal)
    try:
        deadline = time.monotonic() + 60
        while not log.exists() and opened.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert log.exists(), f"no browser was started within 60 s (open exited {opened.poll()})"
        seen = json.loads(log.read_text())
        argv = " ".join(seen["argv"])
        assert "/sign-in/" not in argv and f"127.0.0.1:{port}" not in argv  # only a file's name
        assert (seen["mode"], seen["folder_mode"]) == (0o600, 0o700)
        [sign_in] = re.findall(r'url=(http://127\.0\.0\.1:\d+/sign-in/[\w-]+)"', seen["text"])
        first = httpx.get(sign_in, follow_redirects=False, timeout=10)
        assert first.status_code == 303
        page = httpx.get(f"http://127.0.0.1:{port}{first.headers['location']}", timeout=10)
        assert page.status_code == 200 and secrets["gitea_admin_password"] in page.text
        token = first.headers["location"].strip("/")
        assert token not in argv
        again = httpx.get(sign_in, follow_redirects=False, timeout=10)  # works once: a replay learns nothing
        assert again.status_code == 404 and "run `gitopslab open` again" in again.text
        assert secrets["gitea_admin_password"] not in again.text
        handed = Path(seen["argv"][1].removeprefix("file://"))
        assert not handed.exists() and not handed.parent.exists()  # deleted once used
        # Nor any other process's argv: the token appears in no /proc/*/cmdline of this machine.
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                assert token.encode() not in cmdline.read_bytes()
            except OSError:
                continue
    finally:
        opened.send_signal(signal.SIGINT)
        out, err = opened.communicate(timeout=30)
    assert token not in out + err


def test_without_a_browser_the_one_time_address_is_printed_and_works_once(tmp_path: Path) -> None:
    root = tmp_path / "state"
    LabState("gitopslab", root).secrets()
    [port] = free_ports(1, set())
    env = {**os.environ, "GITOPSLAB_STATE_DIR": str(root), "NO_COLOR": "1", "COLUMNS": "300"}
    opened = subprocess.Popen([sys.executable, "-m", "gitopslab", "open", "--port", str(port), "--no-browser"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                              preexec_fn=ctrl_c_as_at_a_terminal)
    try:
        line = opened.stdout.readline() if opened.stdout else ""
        [sign_in] = re.findall(r"http://127\.0\.0\.1:\d+/sign-in/[\w-]+", line)
        assert httpx.get(sign_in, follow_redirects=True, timeout=10).status_code == 200
        assert httpx.get(sign_in, timeout=10).status_code == 404
    finally:
        opened.send_signal(signal.SIGINT)
        opened.communicate(timeout=30)
