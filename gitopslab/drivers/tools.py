"""External CLIs (k3d, kubectl, the Compose plugin): used from PATH at a supported version, else
downloaded from the pinned official release into the user's data dir, verified against the sha256
pinned for this OS/arch in versions.py (never against a checksum fetched beside the file: whoever
serves the file serves that too). An unverified file is never made executable; a platform without a
pinned sha256 is not downloaded at all.

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

from gitopslab.errors import ToolError, redact
from gitopslab.model.versions import TOOLS, ToolPin
from gitopslab.state import data_root

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


def release_url(pin: ToolPin, environ: dict[str, str] | None = None) -> str:
    url = pin.url.format(**(platform_names() | {"version": pin.version}))
    base = (environ if environ is not None else os.environ).get("GITOPSLAB_TOOLS_BASE_URL")
    if base:
        b = urlsplit(base)
        url = urlunsplit((b.scheme, b.netloc, b.path.rstrip("/") + urlsplit(url).path, "", ""))
    return url


def pinned_sha256(pin: ToolPin) -> str:
    """The sha256 versions.py pins for this OS/arch, or a ToolError telling the user to install it."""
    names = platform_names()
    key = f"{names['os']}/{names['arch']}"
    if key not in pin.sha256:
        raise ToolError(
            f"gitopslab has no verified sha256 for {pin.name} {pin.version} on {key}, so it does not "
            f"download it (pinned: {', '.join(sorted(pin.sha256)) or 'none'})",
            hint=f"install {pin.name} >= {pin.minimum} yourself (your package manager or the project's "
                 f"site) and put it on PATH; `gitopslab tools` then finds it",
        )
    return pin.sha256[key]


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


def find(name: str, exact: bool = False) -> ToolInfo:
    """The first candidate (PATH, then gitopslab's own copy) at or above the pin's minimum; with
    `exact`, the first at the pinned version itself (offline, k3d pulls helper images tagged with its
    own version, and a bundle carries only the pinned version's)."""
    pin = TOOLS[name]
    seen = []
    for source, path in _candidates(name):
        version = _run_version(_version_argv(name, path))
        if version and (_version_tuple(version) == _version_tuple(pin.version) if exact
                        else _version_tuple(version) >= _version_tuple(pin.minimum)):
            return ToolInfo(name, path, version.lstrip("v"), source, True)
        seen.append(f"{path} ({'version ' + version if version else 'no version'})")
    wanted = f"not version {pin.version}" if exact else f"older than {pin.minimum}"
    if seen:
        return ToolInfo(name, None, None, "missing", False,
                        f"{name} found but {wanted} or not answering: {', '.join(seen)}", pin.install_hint)
    return ToolInfo(name, None, None, "missing", False, f"{name} is not installed", pin.install_hint)


def path_of(name: str, exact: bool = False) -> str:
    """The usable tool's path (with `exact`, at the pinned version), or a ToolError naming the install command."""
    info = find(name, exact)
    if not info.ok or not info.path:
        raise ToolError(info.problem or f"{name} is missing", hint=info.hint)
    return info.path


def _fetch(url: str, dest: Path, progress: Progress | None, timeout: float) -> None:
    import httpx

    shown = redact(url)  # a mirror's URL may carry a password (GITOPSLAB_TOOLS_BASE_URL)
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as resp:
            if resp.status_code != 200:
                raise ToolError(f"download of {shown} failed: HTTP {resp.status_code}",
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
        raise ToolError(redact(f"cannot reach {shown}: {exc}"),
                        hint="you seem to be offline or behind a proxy: set HTTPS_PROXY, or install the "
                             "tool from your package manager and put it on PATH") from exc


def install(name: str, progress: Progress | None = None, timeout: float = 120.0,
            pin: ToolPin | None = None) -> ToolInfo:
    pin = pin or TOOLS[name]
    expected = pinned_sha256(pin)
    url = release_url(pin)
    target = bin_dir() / f"{name}{_exe()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        blob = Path(tmp) / "download"
        _fetch(url, blob, progress, timeout)
        actual = hashlib.sha256(blob.read_bytes()).hexdigest()
        if actual != expected:
            raise ToolError(
                f"{name} download from {redact(url)} does not match the sha256 pinned in gitopslab "
                f"(expected {expected[:16]}..., got {actual[:16]}...); the file was discarded, nothing was installed",
                hint="try again (a proxy or mirror may have altered it); if it persists, install the tool yourself",
            )
        blob.chmod(0o755)
        os.replace(blob, target)
    info = find(name)
    if not info.ok:
        raise ToolError(f"{name} was installed to {target} but does not run: {info.problem}",
                        hint=f"remove {target} and install {name} from your package manager")
    return info
