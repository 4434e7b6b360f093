"""What an engine's image archive (`docker save`, the bundle's images.tar) holds, read without trusting it.

Two layouts reach here, and both carry a Docker `manifest.json` (a list of {Config, RepoTags, Layers}):

    classic store   Docker Engine's graph drivers: `<hex>.json` configs, `<id>/layer.tar` layers
                    (Docker 25+ also adds an OCI index.json and blobs/sha256/)
    containerd      Docker Desktop and Engines with the containerd image store: the OCI layout
                    (oci-layout, index.json naming each image's index with io.containerd.image.name),
                    blobs/sha256/, and manifest.json for the host's platform. The index lists every
                    platform, but only the saved platform's blobs are there (moby
                    daemon/containerd/image_exporter.go ExportImage: archive.WithPlatform +
                    archive.WithSkipMissing), which `ctr import --all-platforms` (k3d issue 1538) refuses.

An image's identity that holds in both stores is its config digest: the image id of the classic
store, while the containerd store's id is the index or manifest digest. Every read is bounded: a
hostile archive cannot make gitopslab read a huge JSON into memory or walk millions of members.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitopslab.errors import LabError

MAX_MEMBERS = 100_000     # a bundle's images.tar of ~40 images has a few thousand
MAX_JSON = 16 * 2**20     # manifest.json, index.json, one config: far below this
IMAGE_NAME = "io.containerd.image.name"
REF_NAME = "org.opencontainers.image.ref.name"


@dataclass(frozen=True)
class ArchivedImage:
    tags: tuple[str, ...]        # normalized: docker.io/library/x:tag
    config: str                  # sha256:<hex>: the classic store's image id
    diff_ids: tuple[str, ...]    # the config's rootfs.diff_ids: the same in every store


def normalize(ref: str) -> str:
    """A reference as containerd names it: `gitea/gitea:1` -> `docker.io/gitea/gitea:1`, `x` ->
    `docker.io/library/x:latest` (Docker prints and saves the familiar form)."""
    name, _, digest = ref.partition("@")
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        name = f"docker.io/{name}" if rest else f"docker.io/library/{name}"
    if ":" not in name.rsplit("/", 1)[-1] and not digest:
        name += ":latest"
    return f"{name}@{digest}" if digest else name


def _bad(what: str, path: Path) -> LabError:
    return LabError(f"image archive {path}: {what}", hint="it was not written by `docker save`; save the bundle again")


def _members(tar: tarfile.TarFile, path: Path) -> dict[str, tarfile.TarInfo]:
    members: dict[str, tarfile.TarInfo] = {}
    for count, member in enumerate(tar, 1):
        if count > MAX_MEMBERS:
            raise _bad(f"more than {MAX_MEMBERS} entries", path)
        members[member.name.removeprefix("./")] = member
    return members


def _json(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str, path: Path) -> Any:
    member = members.get(name)
    if member is None or not member.isreg():
        raise _bad(f"lacks {name}", path)
    if member.size > MAX_JSON:
        raise _bad(f"{name} is {member.size} bytes (at most {MAX_JSON})", path)
    handle = tar.extractfile(member)
    try:
        return json.loads(handle.read() if handle else b"")
    except (ValueError, RecursionError) as exc:
        raise _bad(f"{name} is not JSON: {str(exc)[:200]}", path) from exc


@dataclass(frozen=True)
class Archive:
    images: tuple[ArchivedImage, ...]   # manifest.json's
    index_names: frozenset[str]         # index.json's image names (containerd loads by these)

    @property
    def names(self) -> set[str]:
        """Every name loading this archive may give an image."""
        return {tag for image in self.images for tag in image.tags} | set(self.index_names)

    def image(self, ref: str) -> ArchivedImage | None:
        return next((i for i in self.images if normalize(ref) in i.tags), None)


def read(path: Path) -> Archive:
    """The images of an archive as its manifest.json and index.json name them."""
    try:
        with tarfile.open(path, "r:") as tar:
            members = _members(tar, path)
            entries = _json(tar, members, "manifest.json", path)
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise _bad("manifest.json is not a list of images", path)
            images = []
            for entry in entries:
                config = entry.get("Config")
                tags = entry.get("RepoTags") or []
                if not isinstance(config, str) or not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                    raise _bad("an entry of manifest.json has no Config or a RepoTags that is not a list of names", path)
                blob = _json(tar, members, config, path)
                diff_ids = (blob.get("rootfs") or {}).get("diff_ids") if isinstance(blob, dict) else None
                if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
                    raise _bad(f"{config} has no rootfs.diff_ids", path)
                digest = "sha256:" + Path(config).name.removesuffix(".json")
                images.append(ArchivedImage(tuple(sorted({normalize(t) for t in tags})), digest, tuple(diff_ids)))
            return Archive(tuple(images), frozenset(_index_names(tar, members, path)))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _bad(f"cannot be read: {exc}", path) from exc


def _index_names(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], path: Path) -> set[str]:
    """Names the OCI index.json gives: a containerd-store engine loads an image by them, whatever
    manifest.json says, so they are checked too."""
    if "index.json" not in members:
        return set()
    index = _json(tar, members, "index.json", path)
    found = set()
    for desc in (index.get("manifests") if isinstance(index, dict) else None) or []:
        notes = desc.get("annotations") if isinstance(desc, dict) else None
        if not isinstance(notes, dict):
            continue
        for key in (IMAGE_NAME, REF_NAME):
            name = notes.get(key)
            # ref.name is a tag (`1.26.4`) as containerd writes it, but a whole name elsewhere
            if isinstance(name, str) and name and (key == IMAGE_NAME or "/" in name):
                found.add(normalize(name))
    return found


def single_platform(source: Path, dest: Path) -> None:
    """A Docker archive of `source`'s manifest.json images only: no index.json, no oci-layout, no
    blob but the configs and layers those images name. containerd imports it without looking for
    the other platforms an index lists (the containerd store saves their index, not their blobs)."""
    with tarfile.open(source, "r:") as src, tarfile.open(dest, "w") as out:
        members = _members(src, source)
        entries = _json(src, members, "manifest.json", source)
        if not isinstance(entries, list):
            raise _bad("manifest.json is not a list of images", source)
        wanted: list[str] = []
        for entry in entries:
            for name in [entry.get("Config"), *(entry.get("Layers") or [])]:
                if not isinstance(name, str) or not (name in members and members[name].isreg()):
                    raise _bad(f"manifest.json names {name!r}, which is not in the archive", source)
                if name not in wanted:
                    wanted.append(name)
        data = json.dumps(entries).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
        for name in wanted:
            out.addfile(members[name], src.extractfile(members[name]))
