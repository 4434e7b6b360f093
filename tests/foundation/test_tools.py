"""Tool downloads against a local HTTP server: good file, wrong checksum, 404, no network."""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitopslab import tools
from gitopslab.errors import ToolError
from gitopslab.versions import TOOLS

FAKE_K3D = "#!/bin/sh\necho 'k3d version v{v}'\necho 'k3s version v1.35.5-k3s1 (default)'\n"


class _Releases(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def release_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **k: _Releases(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


def _publish(root: Path, body: bytes, checksum: str | None = None) -> None:
    url, sums = tools.release_urls(TOOLS["k3d"], {})
    rel = Path(url.split("://", 1)[1].split("/", 1)[1])
    blob = root / rel
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(body)
    digest = checksum or hashlib.sha256(body).hexdigest()
    sums_rel = Path(sums.split("://", 1)[1].split("/", 1)[1])
    (root / sums_rel).write_text(f"{'0' * 64}  k3d-other-platform\n{digest}  {rel.name}\n")


def _no_k3d_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "emptybin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))


def test_good_download_is_verified_and_used(release_server: tuple[str, Path], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    base, root = release_server
    _publish(root, FAKE_K3D.format(v=TOOLS["k3d"].version).encode())
    monkeypatch.setenv("GITOPSLAB_TOOLS_BASE_URL", base)
    _no_k3d_on_path(monkeypatch, tmp_path)
    assert tools.find("k3d").ok is False
    seen: list[int] = []
    info = tools.install("k3d", progress=lambda done, total: seen.append(done))
    assert info.ok and info.source == "gitopslab" and info.version == TOOLS["k3d"].version
    assert Path(info.path or "").parent == tools.bin_dir()
    assert os.stat(info.path or "").st_mode & stat.S_IXUSR
    assert seen and seen[-1] == len(FAKE_K3D.format(v=TOOLS["k3d"].version))


def test_wrong_checksum_installs_nothing(release_server: tuple[str, Path], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    base, root = release_server
    _publish(root, b"#!/bin/sh\necho evil\n", checksum="ab" * 32)
    monkeypatch.setenv("GITOPSLAB_TOOLS_BASE_URL", base)
    _no_k3d_on_path(monkeypatch, tmp_path)
    with pytest.raises(ToolError, match="does not match its published checksum") as err:
        tools.install("k3d")
    assert "nothing was installed" in err.value.message
    assert not (tools.bin_dir() / "k3d").exists()
    assert list(tools.bin_dir().iterdir()) == []


def test_404_names_the_url(release_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base, _ = release_server
    monkeypatch.setenv("GITOPSLAB_TOOLS_BASE_URL", base)
    with pytest.raises(ToolError, match="HTTP 404") as err:
        tools.install("k3d")
    assert base in err.value.message


def test_offline_names_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    monkeypatch.setenv("GITOPSLAB_TOOLS_BASE_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(ToolError, match=f"cannot reach http://127.0.0.1:{port}/") as err:
        tools.install("k3d")
    assert "offline" in (err.value.hint or "")


def test_too_old_tool_on_path_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    old = bindir / "k3d"
    old.write_text(FAKE_K3D.format(v="4.0.0"))
    old.chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))
    info = tools.find("k3d")
    assert not info.ok and "older than" in (info.problem or "") and "gitopslab tools install k3d" in (info.hint or "")


def test_cli_tools_lists_each_tool(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "--json", "tools"], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PATH": str(tmp_path)})
    import json

    doc = json.loads(proc.stdout)
    assert [t["name"] for t in doc["data"]] == list(TOOLS)
    assert proc.returncode == 1  # nothing usable on an empty PATH
    assert all(t["source"] == "missing" and t["hint"] for t in doc["data"])
