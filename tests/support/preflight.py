"""Shared by the preflight tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gitopslab.drivers import tools

K3S = "k3s version v1.35.5-k3s1 (default)"


def path_without_k3d(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH holding only what the other checks need (no k3d), and an empty tools dir."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("docker", "kubectl", "git"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("GITOPSLAB_DATA_DIR", str(tmp_path / "data"))


def stand_in_tool(bindir: Path, name: str, version_output: str) -> None:
    """A program on PATH that only answers its version (what `drivers/tools.find` asks)."""
    path = bindir / name
    path.write_text(f"#!/bin/sh\nexec /bin/cat <<'OUT'\n{version_output}\nOUT\n")
    path.chmod(0o755)


def stand_in_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """PATH holding only stand-ins of `names` (of k3d, kubectl, docker-compose) at the pinned versions,
    and an empty gitopslab tools dir."""
    answers = {"k3d": f"k3d version v5.9.0\n{K3S}",
               "kubectl": '{"clientVersion": {"gitVersion": "v1.35.5"}}', "docker-compose": "2.40.3"}
    bindir = tmp_path / "tools-bin"
    bindir.mkdir(exist_ok=True)
    for name in names:
        stand_in_tool(bindir, name, answers[name])
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv("GITOPSLAB_DATA_DIR", str(tmp_path / "data"))


def installing_k3d(offered: list[list[str]], version: str = "v5.9.0") -> Callable[[list[str]], None]:
    """preflight's offer_tools, standing in for the download: records what was offered and puts a k3d
    that answers `version` into gitopslab's tools dir."""
    def install(names: list[str]) -> None:
        offered.append(names)
        tools.bin_dir().mkdir(parents=True)
        stand_in_tool(tools.bin_dir(), "k3d", f"k3d version {version}\n{K3S}")

    return install
