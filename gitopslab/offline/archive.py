"""The bundle file: one tar (gzip when the name ends .tgz or .tar.gz) holding

    manifest.json   format, gitopslab version, each image with its id, digests and users, each file
                    with its sha256, and the sha256 of images.tar
    images.tar      `docker save` of every image (the engine's own archive format; podman loads it)
    files/NAME      files `up` would fetch (Argo CD's install manifest)

`save` runs where the images are (pulled, or built); `load` puts them into another engine and the
files into the lab's state dir, and checks every image id and sha256 against the manifest.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitopslab import __version__
from gitopslab.context import Context
from gitopslab.errors import LabError, UsageError
from gitopslab.offline.needs import Needs

FORMAT = 1
MANIFEST = "manifest.json"
IMAGES_TAR = "images.tar"


@dataclass(frozen=True)
class SaveResult:
    path: Path
    images: int
    bytes: int


@dataclass(frozen=True)
class LoadResult:
    images: list[str]
    files: list[str]


def bundle_dir(ctx: Context) -> Path:
    """Where `bundle load` puts the bundle's files and manifest, in the lab's state dir."""
    return ctx.state.dir / "bundle"


def loaded_file(folder: Path, name: str, what: str) -> Path:
    """The file `bundle load` put in `folder`, or a LabError naming `what` it holds and how to get it."""
    path = folder / name
    if not path.is_file():
        raise LabError(f"offline: {what} is not in the loaded bundle ({path} is missing)",
                       hint="load a bundle saved with the same profiles: `gitopslab bundle load FILE`")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _writer(path: Path, name: str) -> tarfile.TarFile:
    if name.endswith((".tgz", ".tar.gz")):
        # gzip level 1: most of the gain of 9 on image layers at a fraction of the time (a room waits on it).
        return tarfile.open(path, "w:gz", compresslevel=1)
    return tarfile.open(path, "w")


def save(docker: Any, needs: Needs, files: dict[str, Path], dest: Path, pull: bool = True,
         progress: Callable[[str], None] = lambda _: None) -> SaveResult:
    """Write the bundle; every image must be in the engine or, with `pull`, be pulled first."""
    if dest.exists() and dest.is_dir():
        raise UsageError(f"{dest} is a folder", hint="give a file name, e.g. gitopslab-bundle.tgz")
    images = needs.images
    _ensure_images(docker, images, pull, progress)
    entries = []
    for ref in images:
        info = docker.image.inspect(ref)
        users = needs.engine.get(ref, []) + needs.node.get(ref, [])
        entries.append({"ref": ref, "id": info.id, "repo_digests": list(info.repo_digests or []),
                        "node": ref in needs.node, "used_by": users})
    with tempfile.TemporaryDirectory(prefix="gitopslab-bundle-", dir=dest.parent) as tmp:
        archive = Path(tmp) / IMAGES_TAR
        progress(f"saving {len(images)} images")
        docker.image.save(images, output=archive)
        manifest = {
            "format": FORMAT, "gitopslab": __version__,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "images": entries, "images_sha256": _sha256(archive),
            "files": [{"name": name, "sha256": _sha256(path)} for name, path in sorted(files.items())],
        }
        (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        partial = Path(tmp) / "bundle.part"
        progress(f"writing {dest}")
        with _writer(partial, dest.name) as tar:
            tar.add(Path(tmp) / MANIFEST, MANIFEST)
            for name, path in sorted(files.items()):
                tar.add(path, f"files/{name}")
            tar.add(archive, IMAGES_TAR)
        partial.replace(dest)  # never a half-written bundle under the name asked for
    return SaveResult(dest, len(images), dest.stat().st_size)


def _ensure_images(docker: Any, images: list[str], pull: bool, progress: Callable[[str], None]) -> None:
    missing = [ref for ref in images if not docker.image.exists(ref)]
    if missing and not pull:
        raise LabError(f"{len(missing)} image(s) the lab needs are not in the engine: {', '.join(missing)}",
                       hint="run `gitopslab bundle save` without --no-pull on a machine with internet")
    for ref in missing:
        progress(f"pulling {ref}")
        docker.image.pull(ref, quiet=True)


def read_manifest(path: Path) -> dict[str, Any]:
    with _open(path) as tar:
        return _manifest(tar, path)


@contextlib.contextmanager
def _open(path: Path) -> Iterator[tarfile.TarFile]:
    if not path.is_file():
        raise UsageError(f"bundle {path} does not exist", hint="give the file `gitopslab bundle save` wrote")
    try:
        with tarfile.open(path, "r:*") as tar:  # plain or gzip, whatever the name says
            yield tar
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise LabError(f"bundle {path} cannot be read: {exc}",
                       hint="copy the bundle again (it is incomplete or damaged), or save a new one") from exc


def _manifest(tar: tarfile.TarFile, path: Path) -> dict[str, Any]:
    try:
        member = tar.extractfile(MANIFEST)
        data = json.loads(member.read()) if member else None
    except (KeyError, ValueError) as exc:
        raise LabError(f"bundle {path} has no readable {MANIFEST}: {exc}",
                       hint="it was not written by `gitopslab bundle save`; save a new one") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise LabError(f"bundle {path} has format {found!r}; this gitopslab reads format {FORMAT}",
                       hint=f"save the bundle again with gitopslab {__version__}")
    return data


def load(docker: Any, source: Path, dest_dir: Path, progress: Callable[[str], None] = lambda _: None) -> LoadResult:
    """Images into the engine, files into `dest_dir`; every id and checksum compared with the manifest."""
    with _open(source) as tar, tempfile.TemporaryDirectory(prefix="gitopslab-load-") as tmp:
        manifest = _manifest(tar, source)
        _refuse_unsafe_names(manifest, source)
        archive = Path(tmp) / IMAGES_TAR
        _extract(tar, IMAGES_TAR, archive, manifest["images_sha256"], source)
        progress(f"loading {len(manifest['images'])} images into the engine")
        docker.image.load(archive, quiet=True)
        wrong = [e["ref"] for e in manifest["images"] if not _has(docker, e["ref"], e["id"])]
        if wrong:
            raise LabError(f"after loading {source}, these images are missing or differ from its manifest: "
                           f"{', '.join(wrong)}", hint="save the bundle again; it does not match its manifest")
        staged = Path(tmp) / "files"
        staged.mkdir()
        for entry in manifest["files"]:
            _extract(tar, f"files/{entry['name']}", staged / entry["name"], entry["sha256"], source)
        dest_dir.mkdir(parents=True, exist_ok=True)
        for entry in manifest["files"]:
            shutil.move(str(staged / entry["name"]), dest_dir / entry["name"])
        (dest_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return LoadResult([e["ref"] for e in manifest["images"]], [e["name"] for e in manifest["files"]])


def _refuse_unsafe_names(manifest: dict[str, Any], source: Path) -> None:
    """A bundle's files land flat in the state dir: a name that is a path (`../../.bashrc`, `/etc/x`)
    would write elsewhere, so such a bundle is refused before anything is loaded."""
    for entry in manifest.get("files") or []:
        name = entry.get("name") if isinstance(entry, dict) else None
        if (not isinstance(name, str) or name in ("", ".", "..", MANIFEST) or "/" in name or "\\" in name
                or "\0" in name or ":" in name):
            raise LabError(f"bundle {source} names a file {name!r}, which is not a plain file name",
                           hint="load only bundles written by `gitopslab bundle save`; save a new one")


def _extract(tar: tarfile.TarFile, name: str, dest: Path, sha256: str, source: Path) -> None:
    try:
        member = tar.extractfile(name)
    except KeyError:
        member = None
    if member is None:
        raise LabError(f"bundle {source} lacks {name}", hint="save the bundle again")
    digest = hashlib.sha256()
    with dest.open("wb") as out:
        for chunk in iter(lambda: member.read(1 << 20), b""):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        raise LabError(f"bundle {source}: {name} has sha256 {digest.hexdigest()[:12]}..., its manifest says "
                       f"{sha256[:12]}...", hint="copy the bundle again (it is damaged), or save a new one")


def _has(docker: Any, ref: str, image_id: str) -> bool:
    return bool(docker.image.exists(ref)) and docker.image.inspect(ref).id == image_id
