"""Bundle files for the `bundle load` tests, written here byte by byte: a `docker save` archive of one
tiny image, a manifest that gives its sha256 (and the files'), the bundle tar holding them, and the
refusal check every hostile-bundle test ends with (nothing reached the engine, the state dir unchanged)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from gitopslab.errors import LabError
from gitopslab.offline import archive


class NoEngine:
    """Every check here must fail before the engine is asked anything."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the engine was used ({name}) for a bundle that should have been refused")


def add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def images_tar(tags: list[str]) -> bytes:
    """A `docker save` archive (classic layout) of one image with these tags."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as t:
        add_member(t, "hello.txt", b"hello\n")
    diff_id = "sha256:" + hashlib.sha256(layer.getvalue()).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as t:
        add_member(t, config_name, config)
        add_member(t, "l1/layer.tar", layer.getvalue())
        add_member(t, "manifest.json", json.dumps([{"Config": config_name, "RepoTags": tags,
                                                     "Layers": ["l1/layer.tar"]}]).encode())
    return out.getvalue()


def manifest(images: bytes, refs: list[str], files: dict[str, bytes] | None = None) -> dict[str, object]:
    """The manifest `bundle save` writes for these images and files (their sha256 as they are)."""
    return {"format": archive.FORMAT, "images": [{"ref": r, "id": "sha256:" + "0" * 64} for r in refs],
            "images_sha256": hashlib.sha256(images).hexdigest(),
            "files": [{"name": n, "sha256": hashlib.sha256(b).hexdigest()} for n, b in (files or {}).items()]}


def bundle(path: Path, manifest_data: bytes | dict[str, object] | None, images: bytes = b"layers",
           files: dict[str, bytes] | None = None) -> Path:
    """The bundle tar (gzip for a .tgz name): manifest.json (none for None; raw bytes as given), files/,
    images.tar."""
    with tarfile.open(path, "w:gz" if path.name.endswith(".tgz") else "w") as tar:
        if manifest_data is not None:
            raw = manifest_data if isinstance(manifest_data, bytes) else json.dumps(manifest_data).encode()
            add_member(tar, "manifest.json", raw)
        for name, data in (files or {}).items():
            add_member(tar, f"files/{name}", data)
        add_member(tar, "images.tar", images)
    return path


def refused(source: Path, dest: Path) -> LabError:
    """`bundle load` of `source` refused, the engine untouched and `dest` never made; the error."""
    with pytest.raises(LabError) as raised:
        archive.load(NoEngine(), source, dest)
    assert not dest.exists()
    return raised.value
