"""A bundle saved on an engine with Docker's containerd image store (Docker Desktop's default) loads
on an engine with the classic store, and its images.tar imports into a node's containerd once made
single-platform (issue 22.5), with the real engine and the real containerd here.

Debian's Docker 20.10 here has no containerd image store, so the fixture is built the way upstream's
`docker save` writes it with that store: moby daemon/containerd/image_exporter.go (ExportImage:
`archive.WithManifest(<the image's index>, ref)`, `archive.WithPlatform(host platform)`,
`archive.WithSkipMissing`) through containerd core/images/archive/exporter.go, which writes
oci-layout, index.json (the index's descriptor, annotated io.containerd.image.name with the full name
and org.opencontainers.image.ref.name with the tag), blobs/sha256/ (the index blob as pulled, listing
every platform, but only the host platform's manifest, config and layers) and manifest.json
({Config: blobs/sha256/<config>, RepoTags: [familiar name], Layers: [blobs/sha256/<layer>]}). On such
an engine `docker image inspect` gives the index digest as the image id; that is the id the bundle's
manifest records.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from gitopslab.drivers import engine as engines
from gitopslab.offline import archive, image_tar

CONTAINERD = Path("/var/run/docker/containerd/containerd.sock")  # dockerd 20.10's own containerd


def _blob(data: bytes) -> tuple[str, bytes]:
    return hashlib.sha256(data).hexdigest(), data


def containerd_store_save(classic: Path, dest: Path, name: str) -> str:
    """`docker save` as the containerd store writes it, from a classic save; returns the index digest."""
    with tarfile.open(classic) as tar:
        [entry] = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = tar.extractfile(entry["Config"]).read()  # type: ignore[union-attr]
        layers = [tar.extractfile(layer).read() for layer in entry["Layers"]]  # type: ignore[union-attr]
    blobs = dict([_blob(config), *(_blob(layer) for layer in layers)])
    cfg_hex = hashlib.sha256(config).hexdigest()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": f"sha256:{cfg_hex}", "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                       "digest": f"sha256:{hashlib.sha256(layer).hexdigest()}", "size": len(layer)}
                                      for layer in layers]}).encode()
    man_hex, _ = _blob(manifest)
    absent = hashlib.sha256(b"the arm64 manifest, not saved").hexdigest()
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{man_hex}",
         "size": len(manifest), "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{absent}",
         "size": 1234, "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}]}).encode()
    idx_hex, _ = _blob(index)
    blobs |= {man_hex: manifest, idx_hex: index}
    full, tag = image_tar.normalize(name), name.rsplit(":", 1)[1]
    top = {"oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
           "index.json": json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                     "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                                                    "digest": f"sha256:{idx_hex}", "size": len(index),
                                                    "annotations": {"io.containerd.image.name": full,
                                                                    "org.opencontainers.image.ref.name": tag}}]}).encode(),
           "manifest.json": json.dumps([{"Config": f"blobs/sha256/{cfg_hex}", "RepoTags": [name],
                                         "Layers": [f"blobs/sha256/{hashlib.sha256(la).hexdigest()}"
                                                    for la in layers]}]).encode()}
    with tarfile.open(dest, "w") as out:
        for path, data in [*top.items(), *((f"blobs/sha256/{h}", b) for h, b in blobs.items())]:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return f"sha256:{idx_hex}"


@pytest.fixture
def desktop_save(engine: str, busybox_image: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """(images.tar as the containerd store saves it, the name, the id that store reports), with the
    name removed from this engine again so that only a load can bring it back."""
    name = f"glt{uuid.uuid4().hex[:8]}/busybox:1"
    subprocess.run([engine, "tag", busybox_image, name], check=True)
    classic = tmp_path / "classic.tar"
    subprocess.run([engine, "save", "-o", str(classic), name], check=True)
    subprocess.run([engine, "rmi", name], check=True, capture_output=True)
    images = tmp_path / "images.tar"
    index_id = containerd_store_save(classic, images, name)
    yield images, name, index_id
    subprocess.run([engine, "rmi", name], capture_output=True)


@pytest.mark.engine
def test_a_bundle_saved_with_the_containerd_store_loads_on_the_classic_store(desktop_save, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Before, load compared the engine's image id with the saved one: the index digest (containerd
    store) against the config digest (classic store), and refused the bundle."""
    images, name, index_id = desktop_save
    data = images.read_bytes()
    manifest = {"format": archive.FORMAT, "images": [{"ref": name, "id": index_id}],
                "images_sha256": hashlib.sha256(data).hexdigest(), "files": []}
    source = tmp_path / "desktop.tar"
    with tarfile.open(source, "w") as tar:
        for member, body in (("manifest.json", json.dumps(manifest).encode()), ("images.tar", data)):
            info = tarfile.TarInfo(member)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    docker = engines.client(engines.detect("docker"))
    result = archive.load(docker, source, tmp_path / "state" / "bundle")
    assert result.images == [name]
    [saved] = image_tar.read(images).images
    assert docker.image.inspect(name).id == saved.config != index_id


@pytest.mark.engine
def test_made_single_platform_the_archive_imports_into_containerd(desktop_save, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """k3d's `image import` runs `ctr image import --all-platforms` in the node: on this archive it
    fails (the arm64 manifest is listed, not saved; k3d issue 1538). The single-platform Docker archive
    imports, under the same name."""
    assert CONTAINERD.exists(), f"dockerd's containerd socket {CONTAINERD} is missing"
    images, name, _ = desktop_save
    ns = f"gitopslab-test-{uuid.uuid4().hex[:8]}"
    ctr = ["ctr", "--address", str(CONTAINERD), "--namespace", ns]
    try:
        k3d_way = subprocess.run([*ctr, "images", "import", "--all-platforms", "--no-unpack", str(images)],
                                 capture_output=True, text=True, timeout=120)
        assert k3d_way.returncode != 0 and "not found" in k3d_way.stderr
        single = tmp_path / "node.tar"
        image_tar.single_platform(images, single)
        ours = subprocess.run([*ctr, "images", "import", "--no-unpack", str(single)],
                              capture_output=True, text=True, timeout=120)
        assert ours.returncode == 0, ours.stderr
        listed = subprocess.run([*ctr, "images", "list", "-q"], capture_output=True, text=True, timeout=60).stdout
        assert image_tar.normalize(name) in listed.split()
    finally:
        for ref in subprocess.run([*ctr, "images", "list", "-q"], capture_output=True, text=True).stdout.split():
            subprocess.run([*ctr, "images", "rm", "--sync", ref], capture_output=True)
        subprocess.run(["ctr", "--address", str(CONTAINERD), "namespaces", "rm", ns], capture_output=True)
