"""Classroom mode offline, on real engines: `bundle save` from this machine's engine (the forge tier's
real Gitea and registry images), `bundle load` into a second, empty engine whose containers have no
NAT, so nothing beyond the host (tests/real/fresh_engine.py), then the compose side of `up --offline` there: a real Gitea
and registry healthy. With one image removed, the compose side and `up --offline` name it and change
nothing."""

from __future__ import annotations

import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitopslab import cli
from gitopslab.conductor import runner as orchestrator
from gitopslab.context import Context
from gitopslab.errors import EngineError
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.stack import compose_layer
from gitopslab.state import LabState
from tests.real.fresh_engine import FreshEngine
from tests.support.compose_lab import allow_env, lab_objects, lab_settings, write_config

GITEA, REGISTRY = "docker.io/gitea/gitea:1.26.4", "docker.io/library/registry:3.1.2"
# Woodpecker cannot be built here (docs/REAL_STACK.md): its roles and the edge's take an image the
# forge tier built, so the compose services' bundle is whole; the core services are the real ones.
STAND_IN = "docker.io/alpine/git:v2.49.1"
ROLES = ("woodpecker-server", "woodpecker-agent", "edge", *compose_layer.COMPONENTS["woodpecker-agent"][2])
# The stand-in agent is a host-root role: the guard takes it from the file only when allowed by name.
ENV = allow_env(dict.fromkeys(ROLES, STAND_IN))


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[FreshEngine]:
    engine = FreshEngine(tmp_path / "engine").start()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture
def config(real_forge: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lab whose subnet and ports are free on this machine's engine (the fresh one has none)."""
    for key, value in ENV.items():  # for the CLI's own load_config
        monkeypatch.setenv(key, value)
    images = dict.fromkeys(ROLES, STAND_IN)
    return write_config(tmp_path / "gitopslab.yaml", lab_settings(f"glo{uuid.uuid4().hex[:8]}", images))


def _ctx(config: Path, **overrides: object) -> Context:
    cfg = load_config(config, environ=ENV, flags=dict(overrides))
    return Context(cfg=cfg, topo=build(cfg), state=LabState(cfg.name))


def _save(config: Path, dest: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert cli.main(["bundle", "save", str(dest), "--only", "compose", "--no-pull", "--config", str(config)]) == 0
    assert "images" in capsys.readouterr().out
    with tarfile.open(dest) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        return dict(json.load(member))


def test_save_load_then_the_compose_side_of_up_offline_runs_on_an_empty_engine(
        config: Path, fresh: FreshEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = _save(config, tmp_path / "core.tar", capsys)
    saved = {e["ref"]: e["id"] for e in manifest["images"]}  # type: ignore[index,union-attr]
    assert {GITEA, REGISTRY, STAND_IN} <= set(saved)
    assert fresh.image_ids() == {}

    monkeypatch.setenv("DOCKER_HOST", fresh.host)  # from here on, the laptop's engine
    assert cli.main(["bundle", "load", str(tmp_path / "core.tar"), "--config", str(config)]) == 0
    assert "now: gitopslab up --offline" in capsys.readouterr().out
    loaded = {ref: fresh.docker("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip() for ref in saved}
    assert loaded == saved

    ctx = _ctx(config, offline=True)
    try:
        orchestrator.run(ctx, [compose_layer.core_step()])
        names = fresh.docker("ps", "--format", "{{.Names}}").stdout.split()
        assert {f"{ctx.topo.lab}-gitea", f"{ctx.topo.lab}-registry"} <= set(names)
        assert fresh.outer("ps", "-q", "--filter", f"label=io.gitopslab.lab={ctx.topo.lab}").stdout.strip() == ""
    finally:
        compose_layer.destroy(ctx)


def test_offline_names_a_missing_image_before_anything_changes(
        config: Path, fresh: FreshEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _save(config, tmp_path / "core.tgz", capsys)
    monkeypatch.setenv("DOCKER_HOST", fresh.host)
    assert cli.main(["bundle", "load", str(tmp_path / "core.tgz"), "--config", str(config)]) == 0
    fresh.docker("rmi", REGISTRY)
    ctx = _ctx(config, offline=True)

    with pytest.raises(EngineError) as raised:
        orchestrator.run(ctx, [compose_layer.core_step()])
    assert REGISTRY in raised.value.message and "offline" in raised.value.message
    assert "bundle load" in (raised.value.hint or "")
    assert lab_objects(ctx.topo.lab) == {"containers": [], "volumes": [], "networks": []}

    capsys.readouterr()
    secrets = ctx.state.secrets_file.read_bytes()  # written with the env file, before the image check
    assert cli.main(["up", "--offline", "--no-doctor", "--config", str(config)]) != 0
    err = capsys.readouterr().err
    assert f"image {REGISTRY} (used by compose service registry)" in err
    assert "nothing was changed" in err and "bundle load" in err
    assert lab_objects(ctx.topo.lab) == {"containers": [], "volumes": [], "networks": []}
    assert ctx.state.secrets_file.read_bytes() == secrets
