"""A bad bundle file is refused with what is wrong and what to do, before any image reaches the
engine and before any file reaches the state dir."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gitopslab import cli
from gitopslab.offline import archive
from tests.support.bundles import bundle, refused


def _manifest(images: bytes = b"layers", **changes: object) -> dict[str, object]:
    base: dict[str, object] = {"format": archive.FORMAT, "images": [{"ref": "a:1", "id": "sha256:0"}],
                               "images_sha256": hashlib.sha256(images).hexdigest(), "files": []}
    return base | changes


def test_a_truncated_bundle_says_copy_it_again(tmp_path: Path) -> None:
    whole = bundle(tmp_path / "b.tgz", _manifest()).read_bytes()
    (tmp_path / "cut.tgz").write_bytes(whole[: len(whole) // 2])
    err = refused(tmp_path / "cut.tgz", tmp_path / "state")
    assert "cannot be read" in err.message and "copy the bundle again" in (err.hint or "")


def test_a_tar_without_a_manifest_is_not_a_bundle(tmp_path: Path) -> None:
    err = refused(bundle(tmp_path / "b.tar", None), tmp_path / "state")
    assert "manifest.json" in err.message and "bundle save" in (err.hint or "")


def test_another_format_names_both(tmp_path: Path) -> None:
    err = refused(bundle(tmp_path / "b.tar", _manifest(format=99)), tmp_path / "state")
    assert "format 99" in err.message and f"format {archive.FORMAT}" in err.message


def test_images_that_do_not_match_the_manifest_never_reach_the_engine(tmp_path: Path) -> None:
    tampered = bundle(tmp_path / "b.tar", _manifest(images=b"layers"), images=b"tampered")
    err = refused(tampered, tmp_path / "state")
    assert "images.tar has sha256" in err.message and "damaged" in (err.hint or "")


@pytest.mark.parametrize("name", ["../../escaped.txt", "/tmp/abs.txt", "sub/dir.txt", "..", "a\\b.txt",
                                  "manifest.json", "C:evil.txt"])
def test_a_file_name_that_is_a_path_is_refused_before_anything_is_written(tmp_path: Path, name: str) -> None:
    """A crafted bundle whose manifest names `../../escaped.txt` would otherwise be moved outside the
    state dir by `bundle load` (shutil.move to dest_dir / name)."""
    body = b"pwned"
    manifest = _manifest(files=[{"name": name, "sha256": hashlib.sha256(body).hexdigest()}])
    state = tmp_path / "deep" / "state"
    err = refused(bundle(tmp_path / "b.tar", manifest, files={name: body}), state)
    assert repr(name) in err.message and "not a plain file name" in err.message
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "deep" / "escaped.txt").exists()


def test_a_missing_bundle_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bundle", "load", str(tmp_path / "nope.tgz")]) == 2
    err = capsys.readouterr().err
    assert "nope.tgz does not exist" in err and "bundle save" in err


def test_save_and_load_need_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bundle", "save"]) == 2
    assert "bundle save needs a file" in capsys.readouterr().err
