"""The bundle file: one tar (gzip when the name ends .tgz or .tar.gz) holding

    manifest.json   format, gitopslab version, each image with its id, digests and users, each file
                    with its sha256, and the sha256 of images.tar
    images.tar      `docker save` of every image (the engine's own archive format; podman loads it)
    files/NAME      files `up` would fetch (Argo CD's install manifest)

`save` runs where the images are (pulled, or built); `load` puts them into another engine and the
files into the lab's state dir. A bundle is a file from outside, so `load` trusts nothing in it
before it is checked, in this order, and changes nothing until all of it holds (docs/SECURITY.md):

    1. manifest.json: at most MAX_MANIFEST bytes, JSON, every field of the expected shape
    2. every member it reads is a plain file (no link, no sparse file), and all fit on the disk
    3. images.tar and every file: extracted beside the state dir, sha256 compared with the manifest
    4. the names images.tar would give its images (manifest.json RepoTags, index.json names) are
       the manifest's images: a bundle cannot retag any other image of the engine
    5. only then the engine loads images.tar; each image is then compared by its config digest (or
       its layers), the identity both Docker image stores share (offline/image_tar.py)
    6. the files replace the state dir's bundle folder by renames, the manifest with them: a kill
       leaves the old folder or the new one, never a part; `up --offline` checks each file's
       sha256 against that manifest again (offline/ready.py)

Before step 1, what an earlier load left when it was killed is cleared: its staging folder removed,
a bundle folder it had moved aside put back (_sweep_killed_loads).
"""


from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitopslab import __version__
from gitopslab.context import Context
from gitopslab.errors import LabError, UsageError
from gitopslab.files import writer_alive
from gitopslab.offline import image_tar
from gitopslab.offline.needs import Needs

FORMAT = 1
MANIFEST = "manifest.json"
IMAGES_TAR = "images.tar"
MAX_MANIFEST = 8 * 2**20  # a manifest of ~50 images and ~10 files is ~20 KiB
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
LEGACY_STAGING_AGE = 3600.0  # a staging folder without a PID in its name (older gitopslab): removed after an hour


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


def file_sha256(path: Path) -> str:
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
        saved = image_tar.read(archive)
        for entry in entries:  # the config digest: the id a classic store gives it on any laptop
            found = saved.image(str(entry["ref"]))
            entry["config"] = found.config if found else ""
        manifest = {
            "format": FORMAT, "gitopslab": __version__,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "images": entries, "images_sha256": file_sha256(archive),
            "files": [{"name": name, "sha256": file_sha256(path)} for name, path in sorted(files.items())],
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
        info = tar.getmember(MANIFEST)
    except KeyError:
        info = None
    if info is None or not info.isreg():
        raise LabError(f"bundle {path} has no readable {MANIFEST}",
                       hint="it was not written by `gitopslab bundle save`; save a new one")
    if info.size > MAX_MANIFEST:
        raise LabError(f"bundle {path}: its {MANIFEST} is {info.size} bytes, more than a bundle's ({MAX_MANIFEST})",
                       hint="it was not written by `gitopslab bundle save`; save a new one")
    try:
        member = tar.extractfile(info)
        data = json.loads(member.read() if member else b"")
    except (ValueError, RecursionError) as exc:
        raise LabError(f"bundle {path} has no readable {MANIFEST}: {str(exc)[:200]}",
                       hint="it was not written by `gitopslab bundle save`; save a new one") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise LabError(f"bundle {path} has format {found!r}; this gitopslab reads format {FORMAT}",
                       hint=f"save the bundle again with gitopslab {__version__}")
    _check_shape(data, path)
    return data


def _check_shape(data: dict[str, Any], path: Path) -> None:
    """Every field load reads, of the type it reads: a malformed manifest is named, not a traceback."""
    def bad(field: str, wanted: str) -> LabError:
        return LabError(f"bundle {path}: {MANIFEST} field {field} is not {wanted}",
                        hint="it was not written by `gitopslab bundle save`; save a new one")

    def sha(value: object) -> bool:
        return isinstance(value, str) and bool(_SHA256.match(value))

    if not sha(data.get("images_sha256")):
        raise bad("images_sha256", "a sha256 (64 hex digits)")
    for key, fields in (("images", ("ref", "id")), ("files", ("name", "sha256"))):
        entries = data.get(key)
        if not isinstance(entries, list):
            raise bad(key, "a list")
        for n, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise bad(f"{key}[{n}]", "an object")
            for name in fields:
                if not isinstance(entry.get(name), str) or not entry[name]:
                    raise bad(f"{key}[{n}].{name}", "a non-empty string")
            if key == "files" and not sha(entry["sha256"]):
                raise bad(f"{key}[{n}].sha256", "a sha256 (64 hex digits)")


def load(docker: Any, source: Path, dest_dir: Path, progress: Callable[[str], None] = lambda _: None) -> LoadResult:
    """Files verified, image names checked, then images into the engine and files into `dest_dir`
    (the order in the module docstring: nothing changes until the whole bundle holds)."""
    _sweep_killed_loads(dest_dir)  # first: a refused bundle still clears what a killed load left
    with _open(source) as tar:
        manifest = _manifest(tar, source)
        _refuse_unsafe_names(manifest, source)
        wanted = {IMAGES_TAR: manifest["images_sha256"],
                  **{f"files/{e['name']}": e["sha256"] for e in manifest["files"]}}
        members = _plain_members(tar, wanted, source)
        dest_dir.parent.mkdir(parents=True, exist_ok=True)
        # Staged beside the state dir: the same disk (one rename installs it), not a RAM-backed /tmp.
        # The PID in its name tells a later load whether its writer still runs (_sweep_killed_loads).
        with tempfile.TemporaryDirectory(prefix=f".{dest_dir.name}-load-{os.getpid()}-", dir=dest_dir.parent) as tmp:
            _require_space(members, Path(tmp), source)
            staged = Path(tmp) / "files"
            staged.mkdir()
            archive = Path(tmp) / IMAGES_TAR
            progress("checking the bundle's files")
            for name, sha256 in wanted.items():
                _extract(tar, members[name], archive if name == IMAGES_TAR else staged / name[6:], sha256, source)
            saved = image_tar.read(archive)
            _refuse_foreign_names(manifest, saved, source)
            progress(f"loading {len(manifest['images'])} images into the engine")
            docker.image.load(archive, quiet=True)
            _podman_names(docker, [e["ref"] for e in manifest["images"]])
            wrong = [e["ref"] for e in manifest["images"] if not _has(docker, e["ref"], saved)]
            if wrong:
                raise LabError(f"after loading {source}, these images are missing or differ from its manifest: "
                               f"{', '.join(wrong)}", hint="save the bundle again; it does not match its manifest")
            (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            _install(staged, dest_dir)
    return LoadResult([e["ref"] for e in manifest["images"]], [e["name"] for e in manifest["files"]])


def _plain_members(tar: tarfile.TarFile, wanted: dict[str, str], source: Path) -> dict[str, tarfile.TarInfo]:
    """The members load reads, each a plain, non-sparse file: a sparse member of a few KiB would be
    written out at its full size (a 10 KiB bundle wrote 4 GiB), and a link would read something else."""
    found: dict[str, tarfile.TarInfo] = {}
    for count, member in enumerate(tar, 1):
        if count > image_tar.MAX_MEMBERS:
            raise LabError(f"bundle {source} has more than {image_tar.MAX_MEMBERS} entries",
                           hint="it was not written by `gitopslab bundle save`; save a new one")
        if member.name in wanted:
            if not member.isreg() or member.issparse():
                raise LabError(f"bundle {source}: {member.name} is not a plain file (a link, a folder or a "
                               f"sparse file)", hint="load only bundles written by `gitopslab bundle save`")
            found[member.name] = member
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise LabError(f"bundle {source} lacks {', '.join(missing)}", hint="save the bundle again")
    return found


def _require_space(members: dict[str, tarfile.TarInfo], where: Path, source: Path) -> None:
    needed = sum(m.size for m in members.values())
    free = shutil.disk_usage(where).free
    if needed > free:
        raise LabError(f"bundle {source} needs {needed / 2**20:.0f} MiB to unpack and {where.parent} has "
                       f"{free / 2**20:.0f} MiB free; nothing was loaded",
                       hint="free disk space (the engine needs as much again for the images), then load again")


def _refuse_foreign_names(manifest: dict[str, Any], saved: image_tar.Archive, source: Path) -> None:
    """The names images.tar would give its images must be the manifest's: otherwise a bundle could
    replace any image of the engine under its name (e.g. gitea/gitea:1.26.4 with something else)."""
    listed = {image_tar.normalize(e["ref"]) for e in manifest["images"]}
    foreign = sorted(saved.names - listed)
    if foreign:
        raise LabError(f"bundle {source}: its images.tar names images its manifest does not list: "
                       f"{', '.join(foreign)}; nothing was loaded",
                       hint="load only bundles written by `gitopslab bundle save`; save a new one")
    absent = sorted(ref for ref in listed if saved.image(ref) is None)
    if absent:
        raise LabError(f"bundle {source}: its manifest lists images its images.tar lacks: {', '.join(absent)}",
                       hint="save the bundle again; it does not match its manifest")


def _install(staged: Path, dest_dir: Path) -> None:
    """`staged` becomes `dest_dir` by renames: a kill leaves the old folder or the new one whole."""
    old = dest_dir.with_name(f".{dest_dir.name}-old-{os.getpid()}")
    if dest_dir.exists():
        dest_dir.replace(old)
    staged.replace(dest_dir)
    shutil.rmtree(old, ignore_errors=True)


def _sweep_killed_loads(dest_dir: Path) -> None:
    """What killed loads left beside `dest_dir`: a staging folder (`.bundle-load-<pid>-*`, a whole copy
    of images.tar) is removed; a previous bundle moved aside (`.bundle-old-<pid>`) is put back where no
    bundle folder took its place (the kill came between the two renames of _install), else removed.
    Only folders whose loader no longer runs: a load running beside this one keeps its own."""
    staging = re.compile(rf"^\.{re.escape(dest_dir.name)}-(?P<kind>load|old)-(?:(?P<pid>[0-9]+)(?:-|$))?")
    with contextlib.suppress(OSError):
        for entry in os.scandir(dest_dir.parent):
            match = staging.match(entry.name)
            if not match or not entry.is_dir(follow_symlinks=False) or not _killed(entry, match["pid"]):
                continue
            if match["kind"] == "old" and not dest_dir.exists():
                os.replace(entry.path, dest_dir)
            else:
                shutil.rmtree(entry.path, ignore_errors=True)


def _killed(entry: os.DirEntry[str], pid: str | None) -> bool:
    """Its loader is gone: by its PID, or, for a folder from before the PID was in the name, by its
    age (a load that has not touched its folder for LEGACY_STAGING_AGE seconds)."""
    if pid is not None:
        return not writer_alive(int(pid))
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > LEGACY_STAGING_AGE
    except OSError:
        return False


def _refuse_unsafe_names(manifest: dict[str, Any], source: Path) -> None:
    """A bundle's files land flat in the state dir: a name that is a path (`../../.bashrc`, `/etc/x`)
    would write elsewhere, so such a bundle is refused before anything is loaded."""
    for entry in manifest.get("files") or []:
        name = entry.get("name") if isinstance(entry, dict) else None
        if (not isinstance(name, str) or name in ("", ".", "..", MANIFEST) or "/" in name or "\\" in name
                or "\0" in name or ":" in name):
            raise LabError(f"bundle {source} names a file {name!r}, which is not a plain file name",
                           hint="load only bundles written by `gitopslab bundle save`; save a new one")


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, sha256: str, source: Path) -> None:
    handle = tar.extractfile(member)
    if handle is None:
        raise LabError(f"bundle {source} lacks {member.name}", hint="save the bundle again")
    digest = hashlib.sha256()
    with dest.open("wb") as out:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        raise LabError(f"bundle {source}: {member.name} has sha256 {digest.hexdigest()[:12]}..., its manifest says "
                       f"{sha256[:12]}...", hint="copy the bundle again (it is damaged), or save a new one")


def _podman_names(docker: Any, refs: list[str]) -> None:
    """Podman loads a docker-save name without a registry as localhost/<name>: tag each image with the
    manifest's name (docker.io/...), the one the compose file and up --offline ask for."""
    from gitopslab.drivers import podman

    if not podman.is_podman(list(docker.client_config.client_call)):
        return
    for ref in refs:
        local = podman.loaded_as(ref)
        if not docker.image.exists(ref) and docker.image.exists(local):
            docker.image.tag(local, ref)


def _has(docker: Any, ref: str, saved: image_tar.Archive) -> bool:
    """The engine holds `ref` as images.tar has it: by config digest (a classic store's image id), or
    by its layers' diff ids (a containerd store's id is a manifest digest; the layers are the same)."""
    image = saved.image(ref)
    if image is None or not docker.image.exists(ref):
        return False
    info = docker.image.inspect(ref)
    if info.id == image.config:
        return True
    layers = getattr(getattr(info, "root_fs", None), "layers", None) or []
    return bool(layers) and tuple(str(layer) for layer in layers) == image.diff_ids
