"""Shared by the preflight tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


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
