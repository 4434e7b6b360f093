"""External CLIs (k3d, kubectl, the Compose plugin): used from PATH at a supported version, else
downloaded from the pinned official release into the user's data dir, verified against the checksum
the upstream project publishes beside it. An unverified file is never made executable.

`GITOPSLAB_TOOLS_BASE_URL` replaces the scheme and host of the release URLs (a mirror, or the tests'
local server).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gitopslab.errors import ToolError
from gitopslab.state import data_root
from gitopslab.versions import TOOLS, ToolPin

Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


@dataclass(frozen=True)
class ToolInfo:
    name: str
    path: str | None
    version: str | None
    source: str          # PATH | gitopslab | missing
    ok: bool
    problem: str | None = None
    hint: str | None = None


def bin_dir() -> Path:
    return data_root() / "bin"


def _exe() -> str:
    return ".exe" if sys.platform == "win32" else ""


def platform_names() -> dict[str, str]:
    os_name = {"linux": "linux", "darwin": "darwin", "win32": "windows"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    carch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)  # compose names arches the uname way
    return {"os": os_name, "arch": arch, "carch": carch, "exe": _exe()}


def release_urls(pin: ToolPin, environ: dict[str, str] | None = None) -> tuple[str, str]:
    fields = platform_names() | {"version": pin.version}
    url, checksum = pin.url.format(**fields), pin.checksum_url.format(**fields)
    base = (environ if environ is not None else os.environ).get("GITOPSLAB_TOOLS_BASE_URL")
    if base:
        b = urlsplit(base)
        url, checksum = (urlunsplit((b.scheme, b.netloc, b.path.rstrip("/") + urlsplit(u).path, "", ""))
                         for u in (url, checksum))
    return url, checksum


def _version_tuple(text: str) -> tuple[int, ...]:
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(x) for x in match.groups()) if match else (0,)


def _run_version(argv: list[str]) -> str | None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    out = proc.stdout.strip()
    if argv[-1] == "json":
        try:
            return str(json.loads(out)["clientVersion"]["gitVersion"])
        except (ValueError, KeyError):
            return None
    match = re.search(r"v?(\d+\.\d+\.\d+)", out)
    return match.group(1) if match else None


def _version_argv(name: str, path: str) -> list[str]:
    if name == "kubectl":
        return [path, "version", "--client", "-o", "json"]
    if name == "docker-compose" and Path(path).name.startswith("docker") and "compose" not in Path(path).name:
        return [path, "compose", "version", "--short"]
    return [path, "version"] if name == "k3d" else [path, "version", "--short"]


def _candidates(name: str) -> list[tuple[str, str]]:
    found = []
    own = bin_dir() / f"{name}{_exe()}"
    on_path = shutil.which(name)
    if on_path and Path(on_path).resolve() != own.resolve():
        found.append(("PATH", on_path))
    if name == "docker-compose":
        # The Compose v2 plugin answers as `docker compose`; python-on-whales drives it that way.
        docker = shutil.which("docker")
        if docker:
            found.insert(0, ("PATH", docker))
    if own.exists():
        found.append(("gitopslab", str(own)))
    return found


def find(name: str) -> ToolInfo:
    pin = TOOLS[name]
    seen = []
    for source, path in _candidates(name):
        version = _run_version(_version_argv(name, path))
        if version and _version_tuple(version) >= _version_tuple(pin.minimum):
            return ToolInfo(name, path, version.lstrip("v"), source, True)
        seen.append(f"{path} ({'version ' + version if version else 'no version'})")
    if seen:
        return ToolInfo(name, None, None, "missing", False,
                        f"{name} found but older than {pin.minimum} or not answering: {', '.join(seen)}",
                        pin.install_hint)
    return ToolInfo(name, None, None, "missing", False, f"{name} is not installed", pin.install_hint)


def path_of(name: str) -> str:
    """The usable tool's path, or a ToolError naming the install command."""
    info = find(name)
    if not info.ok or not info.path:
        raise ToolError(info.problem or f"{name} is missing", hint=info.hint)
    return info.path


def _fetch(url: str, dest: Path, progress: Progress | None, timeout: float) -> None:
    import httpx

    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as resp:
            if resp.status_code != 200:
                raise ToolError(f"download of {url} failed: HTTP {resp.status_code}",
                                hint="check the version pin and your network, or install the tool yourself")
            total = int(resp.headers.get("content-length") or 0) or None
            done = 0
            with dest.open("wb") as fh:
                for chunk in resp.iter_bytes(65536):
                    fh.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    except httpx.HTTPError as exc:
        raise ToolError(f"cannot reach {url}: {exc}",
                        hint="you seem to be offline or behind a proxy: set HTTPS_PROXY, or install the "
                             "tool from your package manager and put it on PATH") from exc


def _expected_sha256(checksum_text: str, filename: str, url: str) -> str:
    for line in checksum_text.splitlines():
        parts = line.split()
        if len(parts) == 1 and re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
            return parts[0].lower()
        if len(parts) >= 2 and parts[-1].lstrip("*").endswith(filename):
            return parts[0].lower()
    raise ToolError(f"the checksum file {url} lists no sha256 for {filename}",
                    hint="the release may have changed layout; report it, or install the tool yourself")


def install(name: str, progress: Progress | None = None, timeout: float = 120.0) -> ToolInfo:
    pin = TOOLS[name]
    url, checksum_url = release_urls(pin)
    target = bin_dir() / f"{name}{_exe()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        sums, blob = Path(tmp) / "checksum", Path(tmp) / "download"
        _fetch(checksum_url, sums, None, timeout)
        expected = _expected_sha256(sums.read_text(errors="replace"), Path(urlsplit(url).path).name, checksum_url)
        _fetch(url, blob, progress, timeout)
        actual = hashlib.sha256(blob.read_bytes()).hexdigest()
        if actual != expected:
            raise ToolError(
                f"{name} download does not match its published checksum (expected {expected[:16]}..., "
                f"got {actual[:16]}...); the file was discarded, nothing was installed",
                hint="try again (a proxy may have altered it); if it persists, install the tool yourself",
            )
        blob.chmod(0o755)
        os.replace(blob, target)
    info = find(name)
    if not info.ok:
        raise ToolError(f"{name} was installed to {target} but does not run: {info.problem}",
                        hint=f"remove {target} and install {name} from your package manager")
    return info
