"""A bundle that carries files (Argo CD's install manifest, k3s's image list, the wheelhouse) on the real engine:
`--files-from` takes them from a folder, `save` writes them with their sha256, `load` puts them in the
state dir's bundle folder, and offline the pinned URLs are read from there (`fetch.bundled`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitopslab.context import Context
from gitopslab.errors import LabError
from gitopslab.model.config import load_config
from gitopslab.offline import archive, fetch, wheelhouse
from gitopslab.offline.needs import Needs, lab_needs
from gitopslab.offline.wheelhouse import WHEELHOUSE
from tests.fakes.wheels import make_wheelhouse


@pytest.mark.engine
def test_files_travel_from_files_from_through_save_and_load_to_the_offline_reader(busybox_image: str,
                                                                                  tmp_path: Path) -> None:
    from python_on_whales import DockerClient

    ctx = Context.from_config(load_config(None, {}, {"name": "bundlefiles"}))
    source = tmp_path / "from"
    source.mkdir()
    texts = {name: f"# {name} as the instructor downloaded it\n" for name in fetch.URLS}
    for name, text in texts.items():
        (source / name).write_text(text, encoding="utf-8")
    wheels = make_wheelhouse(source / WHEELHOUSE, {"demo_pkg-1.0-py3-none-any.whl": b"a wheel's bytes"})
    needs = Needs()
    needs.add(needs.engine, busybox_image, "a stand-in")
    docker = DockerClient()
    ctx_files = lab_needs(ctx).files  # the lab's files (gpu off: the manifest and the image list)
    assert ctx_files
    with fetch.files_for(ctx, source=source) as files:
        assert set(files.paths) == set(ctx_files)
        saved = archive.save(docker, needs, files.paths, tmp_path / "b.tar", pull=False)
    manifest = archive.read_manifest(saved.path)
    assert {f["name"] for f in manifest["files"]} == set(ctx_files)

    dest = tmp_path / "state" / "bundle"
    loaded = archive.load(docker, saved.path, dest)
    assert set(loaded.files) == set(ctx_files) and loaded.images == [busybox_image]
    read = fetch.bundled(dest)
    for name in (n for n in ctx_files if n != WHEELHOUSE):
        assert (dest / name).read_text(encoding="utf-8") == texts[name]
        assert read(fetch.URLS[name]) == texts[name]
    assert dict(wheelhouse.wheels(dest / WHEELHOUSE)) == wheels  # what `up --offline` uploads to Gitea
    with pytest.raises(LabError) as caught:
        fetch.bundled(tmp_path / "empty")(fetch.URLS[ctx_files[0]])
    assert "is not in the loaded bundle" in caught.value.message and "bundle load" in (caught.value.hint or "")


def test_files_from_names_a_missing_file_with_its_url(tmp_path: Path) -> None:
    ctx = Context.from_config(load_config(None, {}, {"name": "bundlefiles"}))
    with pytest.raises(LabError) as caught, fetch.files_for(ctx, source=tmp_path):
        pass
    assert "--files-from" in caught.value.message and "its pinned URL: https://" in (caught.value.hint or "")
