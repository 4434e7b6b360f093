"""Source archives for scripts/real-stack/build.py: the sha256 check, the extraction, and the Go builds of
the programs the Go module proxy refuses (Woodpecker, plugin-git, the kaniko fork, the KServe controller).

Loaded by build.py with runpy (no import of it: build.py runs as a script). Standard library only.
The archives are `git archive` of upstream tags (../shared/upstream/README.md); they are never edited:
build.py patches the extracted copy in its cache.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


class ArchiveError(RuntimeError):
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified(path: Path, expected: str, what: str) -> Path:
    """`path` if its sha256 is `expected`; otherwise refuse, naming both values and the pin."""
    if not path.is_file():
        raise ArchiveError(f"source archive {path} is missing (versions.py {what}); set GITOPSLAB_UPSTREAM to "
                           f"the folder that holds {path.name} (../shared/upstream beside the checkout by default)")
    actual = sha256_of(path)
    if actual != expected:
        raise ArchiveError(f"source archive {path}: sha256 {actual}, but gitopslab/model/versions.py {what} "
                           f"pins {expected}; refusing to build from it. Replace the file with the upstream "
                           "tag's `git archive`, or bump the pin and its sha256 together")
    return path


def extracted(path: Path, expected: str, what: str, root: Path) -> Path:
    """The archive's one top folder, extracted under `root` once (the sha256 checked every time), writable."""
    verified(path, expected, what)
    dest = root / path.name.removesuffix(".tar.gz")
    marker = dest / ".gitopslab-extracted"
    if marker.exists() and marker.read_text() == expected:
        return dest
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        done = subprocess.run(["tar", "-xzf", str(path), "-C", tmp], capture_output=True, text=True)
        if done.returncode != 0:
            raise ArchiveError(f"tar -xzf {path}: {done.stderr.strip()}")
        (top,) = Path(tmp).iterdir()  # `git archive --prefix=NAME/`: one folder
        shutil.rmtree(dest, ignore_errors=True)
        top.rename(dest)
    marker.write_text(expected)
    return dest


@dataclass(frozen=True)
class ArchiveBuild:
    """One `go build` in an extracted archive: main packages, flags as upstream's Makefile sets them, and
    the names upstream ships the binaries under ({version}/{bare} are filled in)."""

    packages: tuple[str, ...]
    ldflags: str
    cgo: bool = False
    tags: str = ""
    mod: str = "mod"
    names: dict[str, str] = field(default_factory=dict)


_WOODPECKER_VERSION = "-X go.woodpecker-ci.org/woodpecker/v3/version.Version={bare}"
BUILDS: dict[str, list[ArchiveBuild]] = {
    # Makefile `release-server`: sqlite needs cgo; statically linked (the image is FROM scratch) with the
    # pure-Go resolver and user lookup, as xgo's netgo/osusergo tags give upstream's release.
    "woodpecker": [
        ArchiveBuild(("cmd/server",), f'-s -w -linkmode external -extldflags "-static" {_WOODPECKER_VERSION}',
                     cgo=True, tags="netgo osusergo grpcnotrace", names={"server": "woodpecker-server"}),
        # `release-agent`: CGO_ENABLED=0. Not `release-cli`: no image and no test runs woodpecker-cli (the lab
        # and its tests use the API), and its 200-odd packages of its own (TUI, expr, quic) cost minutes cold.
        ArchiveBuild(("cmd/agent",), f"-s -w {_WOODPECKER_VERSION}", tags="grpcnotrace",
                     names={"agent": "woodpecker-agent"}),
    ],
    "plugin-git": [ArchiveBuild((".",), "-s -w -X main.version={bare}")],
    # deploy/Dockerfile's `make out/executor`; the module vendors its dependencies.
    "kaniko-executor": [ArchiveBuild(("cmd/executor",),
                                     "-s -w -X github.com/osscontainertools/kaniko/pkg/version.version={version}",
                                     mod="vendor")],
    # Issue 27: the KServe controller, as upstream's Dockerfile builds its `manager` (CGO off, -mod=readonly,
    # no ldflags); the cluster's real API server runs it on the host (the serving tier).
    "kserve-controller": [ArchiveBuild(("cmd/manager",), "", mod="readonly")],
}

# The web UI (web/, a Vite app) is embedded with go:embed. Its package.json names pnpm 11.17.0, which needs
# Node >= 22.13 (these machines have Node 20): pnpm 10 (the same lockfile format, 9.0) installs upstream's
# lockfile and builds it on Node 20, with the version switch turned off (docs/REAL_STACK.md).
PNPM = "pnpm@10.34.9"
# What build.py embeds when the UI cannot be built (no npx, no npm registry): go:embed needs an index.html.
WEB_PLACEHOLDER = ("<!doctype html><html><head><title>Woodpecker</title></head><body>"
                   "<p>Woodpecker v3.17.0 built by gitopslab's scripts/real-stack/build.py without its web UI "
                   "(docs/REAL_STACK.md): the API at /api answers.</p></body></html>\n")
