"""The real forge tier: Gitea and the registry built from their Go modules, Woodpecker (server, agent),
plugin-git and plugin-kaniko from their source archives, by scripts/real-stack/build.py, tagged with the
exact image names gitopslab/model/versions.py pins, so the project's own compose file runs them
unchanged (no `images:` override).

One lab per module: its own name, /24 subnet, free ports and state dir, destroyed in a finalizer.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitopslab.conductor import runner as orchestrator
from gitopslab.context import Context
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.stack import compose_layer
from gitopslab.state import LabState
from tests.conftest import REPO, need
from tests.support.compose_lab import lab_settings, remove_lab, write_config

BUILD = REPO / "scripts" / "real-stack" / "build.py"


@pytest.fixture(scope="session")
def real_forge(engine: str) -> list[str]:
    """Build (or find cached) the forge tier's images; return their names."""
    done = subprocess.run([sys.executable, str(BUILD), "forge"], capture_output=True, text=True, timeout=5400)
    need(done.returncode == 0, f"scripts/real-stack/build.py forge failed:\n{done.stderr[-3000:]}")
    listed = subprocess.run([sys.executable, str(BUILD), "forge", "--list"], capture_output=True, text=True,
                            check=True)
    return listed.stdout.split()


@dataclass
class ForgeLab:
    name: str
    config: Path
    state_root: Path
    ctx: Context

    def compose_up(self) -> orchestrator.RunReport:
        return orchestrator.run(self.ctx, [compose_layer.core_step()])


def make_forge_lab(root: Path) -> ForgeLab:
    name = f"glr{uuid.uuid4().hex[:8]}"
    config = write_config(root / "gitopslab.yaml", lab_settings(name, {}))
    cfg = load_config(config, environ={})
    state_root = root / "state"
    ctx = Context(cfg=cfg, topo=build(cfg), state=LabState(name, state_root))
    return ForgeLab(name, config, state_root, ctx)


@pytest.fixture(scope="module")
def forge_lab(real_forge: list[str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForgeLab]:
    """The compose core (real Gitea + real registry) of a fresh lab, up and healthy."""
    lab = make_forge_lab(tmp_path_factory.mktemp("forge"))
    try:
        lab.compose_up()
        yield lab
    finally:
        remove_lab(lab.ctx)


# The cluster tier's session fixtures (real control plane, kwok, Argo CD, served GitOps repo).
from tests.real.cluster_fixtures import (  # noqa: E402,F401
    argocd_up,
    cluster,
    cluster_lab,
    gitops,
    real_cluster_programs,
)
