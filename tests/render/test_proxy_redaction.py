"""Proxy credentials never leave the state dir: `config` prints them and `render` writes them as ***
(issue 12, item 13). `up` still hands the real URL to the components that need it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab import render
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.render.proxy import redact_url

PASSWORD = "S3cr3t-pr0xy-pw"
PROXY = f"http://alice:{PASSWORD}@proxy.corp:3128"


def gl(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env, "NO_COLOR": "1"})


@pytest.mark.parametrize("source", ["file", "host-env"])
def test_config_prints_proxy_without_credentials(tmp_path: Path, source: str) -> None:
    env = {"HTTPS_PROXY": PROXY} if source == "host-env" else {}
    if source == "file":
        (tmp_path / "gitopslab.yaml").write_text(f"proxy:\n  https_proxy: {PROXY}\n")
    text = gl("config", cwd=tmp_path, env=env)
    doc = gl("--json", "config", cwd=tmp_path, env=env)
    assert text.returncode == 0 and doc.returncode == 0, text.stderr + doc.stderr
    for out in (text.stdout, doc.stdout):
        assert PASSWORD not in out and "alice" not in out
    assert "https_proxy: http://***@proxy.corp:3128" in text.stdout
    assert json.loads(doc.stdout)["data"]["settings"]["proxy"]["https_proxy"] == "http://***@proxy.corp:3128"


def test_render_writes_no_proxy_credentials(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text(f"proxy:\n  http_proxy: {PROXY}\n  https_proxy: {PROXY}\n")
    proc = gl("render", "--out", "out", cwd=tmp_path, env={})
    assert proc.returncode == 0, proc.stderr
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert PASSWORD not in path.read_text(), path
    assert "LAB_HTTP_PROXY='http://***@proxy.corp:3128'" in (tmp_path / "out" / "compose" / "lab.env").read_text()
    assert "HTTPS_PROXY=http://***@proxy.corp:3128" in (tmp_path / "out" / "k3d" / "cluster.yaml").read_text()


def test_up_still_gets_the_real_proxy_url() -> None:
    cfg = load_config(None, {}, {"proxy": {"http_proxy": PROXY}})
    files = render.artifacts(cfg, build(cfg), secrets={"gitea_admin_password": "x"})
    assert f"LAB_HTTP_PROXY='{PROXY}'" in files["compose/lab.env"]


@pytest.mark.parametrize(("url", "shown"), [
    ("http://u:p@h:3128", "http://***@h:3128"),
    ("socks5://token@h:1080", "socks5://***@h:1080"),
    ("u:p@h:3128", "***@h:3128"),
    ("http://u:p/w@rd@h:3128", "http://***@h:3128"),
    ("http://h:3128", "http://h:3128"),
    ("", ""),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_config_does_not_print_the_workshop_password(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text("credentials:\n  workshop_password: Room-Secret-2026\n")
    for args in (("config",), ("--json", "config")):
        proc = gl(*args, cwd=tmp_path, env={})
        assert proc.returncode == 0, proc.stderr
        assert "Room-Secret-2026" not in proc.stdout and "***" in proc.stdout
