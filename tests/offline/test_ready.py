"""`up --offline` names what is not here before anything changes: here, a k3d whose helper images the
bundle does not carry (k3d runs ghcr.io/k3d-io/k3d-proxy and k3d-tools tagged with its own version;
a bundle carries the pinned version's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitopslab.context import Context
from gitopslab.drivers import tools
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.model.versions import TOOLS
from gitopslab.offline import ready
from gitopslab.offline.archive import bundle_dir
from gitopslab.offline.needs import lab_needs
from gitopslab.state import LabState
from tests.support.loaded_bundle import write_loaded_bundle
from tests.support.preflight import stand_in_tool, stand_in_tools

PINNED = TOOLS["k3d"].version


class _Engine:
    class image:  # noqa: N801 - mirrors python-on-whales' docker.image
        @staticmethod
        def exists(ref: str) -> bool:
            return True


def _ctx(tmp_path: Path) -> Context:
    cfg = load_config(None, environ={}, flags={"name": "room", "offline": True})
    ctx = Context(cfg=cfg, topo=build(cfg), state=LabState(cfg.name, tmp_path / "state"))
    write_loaded_bundle(bundle_dir(ctx), lab_needs(ctx).files)
    return ctx


def test_offline_a_k3d_other_than_the_pinned_one_is_named_with_the_fix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in_tools(tmp_path, monkeypatch, "docker-compose", "k3d", "kubectl")
    ctx = _ctx(tmp_path)
    assert ready.missing(ctx, _Engine()) == []  # the pinned k3d on PATH

    other = "5.7.4"  # accepted online (>= 5.6), but it would pull k3d-proxy:5.7.4, which no bundle holds
    on_path = tmp_path / "tools-bin" / "k3d"
    stand_in_tool(on_path.parent, "k3d", f"k3d version v{other}\nk3s version v1.31.5-k3s1 (default)")
    assert tools.find("k3d").ok
    [line] = ready.missing(ctx, _Engine())
    assert line.startswith(f"tool k3d: {on_path} is k3d {other}")
    assert f"ghcr.io/k3d-io/k3d-proxy:{PINNED}" in line and f"k3d-proxy:{other}" in line
    assert "gitopslab tools install k3d --force" in line

    # `tools install k3d --force` puts the pinned one in gitopslab's own bin dir: offline, that one is used
    own = tools.bin_dir()
    own.mkdir(parents=True)
    stand_in_tool(own, "k3d", f"k3d version v{PINNED}\nk3s version v1.35.5-k3s1 (default)")
    assert ready.missing(ctx, _Engine()) == []
    assert tools.path_of("k3d") == str(on_path)  # online: the first supported one, as before
    assert tools.path_of("k3d", exact=True) == str(own / "k3d")


def test_a_file_cut_short_or_changed_after_bundle_load_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, `up --offline` only asked whether each file existed: a wheelhouse cut short by a kill
    during an earlier load (or by a copy) was read as it was."""
    stand_in_tools(tmp_path, monkeypatch, "docker-compose", "k3d", "kubectl")
    ctx = _ctx(tmp_path)
    folder = bundle_dir(ctx)
    (folder / "wheelhouse.tar").write_bytes(b"x")  # the manifest says "x\n"
    [line] = ready.missing(ctx, _Engine())
    assert line.startswith(f"file wheelhouse.tar (in {folder}) differs from the loaded bundle's manifest")
    (folder / "manifest.json").unlink()  # a load that never finished writes no manifest
    assert all("is not from a finished `bundle load`" in line for line in ready.missing(ctx, _Engine()))
