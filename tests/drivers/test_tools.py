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
from dataclasses import replace
from pathlib import Path

import pytest

from gitopslab.drivers import tools
from gitopslab.errors import ToolError
from gitopslab.model.versions import TOOLS, ToolPin

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
    """The file where the release URL points, with the checksum files a mirror would serve beside it
    (its own .sha256 and a checksums.txt): gitopslab must not trust either."""
    url = tools.release_url(TOOLS["k3d"], {})
    rel = Path(url.split("://", 1)[1].split("/", 1)[1])
    blob = root / rel
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(body)
    digest = checksum or hashlib.sha256(body).hexdigest()
    (blob.parent / f"{rel.name}.sha256").write_text(f"{digest}  {rel.name}\n")
    (blob.parent / "checksums.txt").write_text(f"{'0' * 64}  k3d-other-platform\n{digest}  {rel.name}\n")


def _pinned_to(body: bytes) -> ToolPin:
    """The k3d pin with this platform's sha256 set to `body`'s: what a release with that file would pin."""
    names = tools.platform_names()
    return replace(TOOLS["k3d"], sha256={f"{names['os']}/{names['arch']}": hashlib.sha256(body).hexdigest()})


def _no_k3d_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "emptybin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))


def test_good_download_is_verified_and_used(release_server: tuple[str, Path], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    base, root = release_server
    body = FAKE_K3D.format(v=TOOLS["k3d"].version).encode()
    _publish(root, body)
    monkeypatch.setenv("GITOPSLAB_TOOLS_BASE_URL", base)
    _no_k3d_on_path(monkeypatch, tmp_path)
    assert tools.find("k3d").ok is False
    seen: list[int] = []
    info = tools.install("k3d", progress=lambda done, total: seen.append(done), pin=_pinned_to(body))
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
    with pytest.raises(ToolError, match="does not match the sha256 pinned") as err:
        tools.install("k3d")
    assert "nothing was installed" in err.value.message
    assert not (tools.bin_dir() / "k3d").exists()
    assert list(tools.bin_dir().iterdir()) == []


def test_a_checksum_mismatch_never_prints_the_mirrors_password(release_server: tuple[str, Path], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23.12: the mismatch message named the download URL whole, the mirror's login included."""
    base, root = release_server
    _publish(root, b"#!/bin/sh\necho evil\n", checksum="ab" * 32)
    monkeypatch.setenv("GITOPSLAB_TOOLS_BASE_URL", base.replace("http://", "http://mirror-user:Mirr0r-Pass@"))
    _no_k3d_on_path(monkeypatch, tmp_path)
    with pytest.raises(ToolError, match="does not match the sha256 pinned") as err:
        tools.install("k3d")
    assert "Mirr0r-Pass" not in str(err.value)
    assert "http://mirror-user:***@127.0.0.1:" in err.value.message


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


def test_a_mirror_serving_a_script_and_its_own_checksum_is_refused(release_server: tuple[str, Path],
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The mirror publishes a script and a checksum file that matches it: only the sha256 pinned in
    versions.py counts, so nothing is installed and nothing runs."""
    base, root = release_server
    marker = tmp_path / "ran"
    _publish(root, f"#!/bin/sh\ntouch {marker}\necho 'k3d version v{TOOLS['k3d'].version}'\n".encode())
    monkeypatch.setenv("GITOPSLAB_TOOLS_BASE_URL", base)
    _no_k3d_on_path(monkeypatch, tmp_path)
    with pytest.raises(ToolError, match="pinned") as err:
        tools.install("k3d")
    assert "nothing was installed" in err.value.message
    assert not (tools.bin_dir() / "k3d").exists() and not marker.exists()


def test_a_platform_without_a_pinned_sha256_is_not_downloaded(release_server: tuple[str, Path], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    base, root = release_server
    _publish(root, FAKE_K3D.format(v=TOOLS["k3d"].version).encode())
    monkeypatch.setenv("GITOPSLAB_TOOLS_BASE_URL", base)
    with pytest.raises(ToolError, match="no verified sha256 for k3d") as err:
        tools.install("k3d", pin=replace(TOOLS["k3d"], sha256={}))
    assert "yourself" in (err.value.hint or "") and not (tools.bin_dir() / "k3d").exists()


@pytest.mark.parametrize("name", list(TOOLS))
def test_every_tool_pins_a_sha256_per_platform(name: str) -> None:
    pin = TOOLS[name]
    assert pin.sha256, f"{name}: no platform pinned"
    for key, digest in pin.sha256.items():
        assert key in {"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"}, key
        assert len(digest) == 64 and all(c in "0123456789abcdef" for c in digest), (key, digest)
    assert "linux/amd64" in pin.sha256  # CI and most classrooms
