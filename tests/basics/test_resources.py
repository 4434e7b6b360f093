"""Seed content is found in a checkout and inside a built wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gitopslab.resources import NAMES, content_path

REPO = Path(__file__).resolve().parents[2]


def test_checkout_folders_are_found() -> None:
    for name in NAMES:
        assert content_path(name) == REPO / name


def test_unknown_folder_is_refused() -> None:
    with pytest.raises(ValueError):
        content_path("secrets")


def test_wheel_carries_the_seed_content(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 and "No module named" in proc.stderr:  # hatchling absent: build isolated
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(REPO)],
                              capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("gitopslab-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for folder in NAMES:
        shipped = [n for n in (REPO / folder).rglob("*") if n.is_file() and "__pycache__" not in n.parts]
        for path in shipped:
            rel = path.relative_to(REPO / folder).as_posix()
            assert f"gitopslab/_data/{folder}/{rel}" in names, rel
