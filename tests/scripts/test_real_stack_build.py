"""scripts/real-stack/build.py and archives.py: a source archive is used only when its sha256 is the one
versions.py pins (SOURCE_ARCHIVES); anything else is refused with the expected and actual values, before
anything is extracted or built. `--only` names what a tier has when asked for something it lacks."""

from __future__ import annotations

import hashlib
import os
import runpy
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from gitopslab.model.versions import REAL_STACK, SOURCE_ARCHIVES

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "scripts" / "real-stack" / "build.py"
ARCHIVES = runpy.run_path(str(REPO / "scripts" / "real-stack" / "archives.py"))


def _archive(path: Path, top: str, files: dict[str, str]) -> Path:
    """A small `git archive`-shaped tarball: one top folder holding `files`."""
    staging = path.parent / f"staging-{path.name}"
    for name, text in files.items():
        (staging / top / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / top / name).write_text(text)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(staging / top, arcname=top)
    return path


def _build(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GITOPSLAB_UPSTREAM=str(tmp_path / "upstream"), GITOPSLAB_REAL_CACHE=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, str(BUILD), *args], capture_output=True, text=True, timeout=120, env=env)


def test_an_archive_whose_sha256_is_not_the_pin_is_refused_with_both_values(tmp_path: Path) -> None:
    pin = SOURCE_ARCHIVES["plugin-git"]
    fake = _archive(tmp_path / "upstream" / pin.file, "plugin-git-2.9.2", {"go.mod": "module evil\n"})
    actual = hashlib.sha256(fake.read_bytes()).hexdigest()
    done = _build(tmp_path, "forge", "--only", "clone")
    assert done.returncode == 1, done.stderr
    assert pin.sha256 in done.stderr and actual in done.stderr, done.stderr
    assert str(fake) in done.stderr and "SOURCE_ARCHIVES['plugin-git']" in done.stderr
    # Refused before anything else: nothing extracted, nothing built.
    assert not (tmp_path / "cache" / "src").exists() and not (tmp_path / "cache" / "bin").exists()


def test_a_missing_archive_names_the_folder_to_point_at(tmp_path: Path) -> None:
    (tmp_path / "upstream").mkdir()
    done = _build(tmp_path, "forge", "--only", "kaniko")
    assert done.returncode == 1
    assert "plugin-kaniko-2.3.1.tar.gz" in done.stderr or "kaniko-v1.27.2.tar.gz" in done.stderr, done.stderr
    assert "GITOPSLAB_UPSTREAM" in done.stderr


def test_only_names_the_tiers_roles_when_given_another(tmp_path: Path) -> None:
    done = _build(tmp_path, "forge", "--only", "argocd")
    assert done.returncode == 2
    assert "--only argocd: not in forge" in done.stderr and "woodpecker-server" in done.stderr, done.stderr


def test_an_archive_is_extracted_once_and_checked_every_time(tmp_path: Path) -> None:
    archive = _archive(tmp_path / "x-1.0.tar.gz", "x-1.0", {"go.mod": "module x\n", "cmd/main.go": "package main\n"})
    good = hashlib.sha256(archive.read_bytes()).hexdigest()
    tree = ARCHIVES["extracted"](archive, good, "SOURCE_ARCHIVES['x']", tmp_path / "src")
    assert tree == tmp_path / "src" / "x-1.0" and (tree / "cmd" / "main.go").read_text() == "package main\n"
    (tree / "go.mod").write_text("module x\n// patched by the recipe\n")
    again = ARCHIVES["extracted"](archive, good, "SOURCE_ARCHIVES['x']", tmp_path / "src")
    assert (again / "go.mod").read_text().endswith("// patched by the recipe\n")  # the cached copy is kept
    _archive(archive, "x-1.0", {"go.mod": "module y\n"})
    with pytest.raises(ARCHIVES["ArchiveError"], match=good):
        ARCHIVES["extracted"](archive, good, "SOURCE_ARCHIVES['x']", tmp_path / "src")


def test_every_archive_program_names_a_pinned_archive_of_its_own_release() -> None:
    for name, program in REAL_STACK.items():
        if program.method == "archive":
            pin = SOURCE_ARCHIVES[program.archive]
            assert pin.version == program.version and pin.version in pin.file, name
            assert len(pin.sha256) == 64 and pin.version.lstrip("v") in pin.release, name


def test_the_kserve_archive_is_refused_before_the_serving_tier_builds_anything(tmp_path: Path) -> None:
    # Issue 27: the controller is a host program (no image recipe); its archive is checked up front too.
    pin = SOURCE_ARCHIVES["kserve"]
    fake = _archive(tmp_path / "upstream" / pin.file, "kserve-v0.20.0", {"go.mod": "module evil\n"})
    actual = hashlib.sha256(fake.read_bytes()).hexdigest()
    done = _build(tmp_path, "serving")
    assert done.returncode == 1, done.stderr
    assert pin.sha256 in done.stderr and actual in done.stderr and "SOURCE_ARCHIVES['kserve']" in done.stderr
    assert not (tmp_path / "cache" / "src").exists() and not (tmp_path / "cache" / "bin").exists()


def test_the_serving_tier_lists_the_kserve_controller(tmp_path: Path) -> None:
    done = _build(tmp_path, "serving", "--list")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(tmp_path / "cache" / "bin" / "kserve-controller-v0.20.0")]
