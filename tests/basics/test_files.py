"""files.py: the one atomic replace, and the private (0600) writers every credential file goes through."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from gitopslab import files
from gitopslab.files import open_private, write_private

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@posix_only
def test_write_private_is_0600_from_the_first_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sub" / "secret.env"
    modes: list[int] = []
    real_replace = os.replace

    def watching(tmp: str, target: Path) -> None:
        modes.append(stat.S_IMODE(os.stat(tmp).st_mode))  # the temp file, full, just before the rename
        real_replace(tmp, target)

    monkeypatch.setattr(files.os, "replace", watching)
    real_mkstemp = files.tempfile.mkstemp

    def mkstemp(**kwargs: str) -> tuple[int, str]:
        fd, tmp = real_mkstemp(**kwargs)
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))  # before a byte is written
        return fd, tmp

    monkeypatch.setattr(files.tempfile, "mkstemp", mkstemp)
    write_private(path, "TOKEN=s3cr3t\n")
    assert modes == [0o600, 0o600]
    assert path.read_text() == "TOKEN=s3cr3t\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@posix_only
def test_write_private_tightens_a_loose_file_and_replaces_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("old content that is longer than the new one\n")
    path.chmod(0o644)
    write_private(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["kubeconfig"]  # no temp file left beside it


def test_a_failed_private_write_leaves_the_old_file_and_no_temp(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secrets.json"
    write_private(path, "{}\n")

    def full_disk(tmp: str, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full_disk)
    with pytest.raises(OSError):
        write_private(path, '{"a": "b"}\n')
    assert path.read_text() == "{}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["secrets.json"]


@posix_only
def test_open_private_creates_a_new_0600_file_for_appending(tmp_path: Path) -> None:
    path = tmp_path / "up.log"
    with open_private(path) as fh:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # private before a byte is written
        fh.write("one\n")
    with path.open("a", encoding="utf-8") as fh:
        fh.write("two\n")
    assert path.read_text() == "one\ntwo\n"


def test_open_private_refuses_an_existing_path_or_a_planted_symlink(tmp_path: Path) -> None:
    existing = tmp_path / "up.log"
    existing.write_text("keep\n")
    with pytest.raises(FileExistsError):
        open_private(existing)
    assert existing.read_text() == "keep\n"
    if sys.platform != "win32":
        target = tmp_path / "elsewhere"
        link = tmp_path / "planted.log"
        link.symlink_to(target)
        with pytest.raises(FileExistsError):
            open_private(link)
        assert not target.exists()
