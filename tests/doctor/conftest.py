from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gitopslab.doctor.probe import Probe
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.state import LabState
from tests.fakes.doctor_standins import BlackHole, StandIn


@pytest.fixture
def serve() -> Iterator[Callable[..., StandIn]]:
    started: list[StandIn] = []

    def start(routes: dict, delay: float = 0.0) -> StandIn:
        s = StandIn(routes, delay)
        started.append(s)
        return s

    yield start
    for s in started:
        s.close()


@pytest.fixture
def black_hole() -> Iterator[Callable[[], BlackHole]]:
    holes: list[BlackHole] = []

    def start() -> BlackHole:
        h = BlackHole()
        holes.append(h)
        return h

    yield start
    for h in holes:
        h.close()


@pytest.fixture
def make_probe(tmp_path: Path, unique_name: str) -> Callable[..., Probe]:
    def make(timeout: float = 2.0, **cfg: Any) -> Probe:
        config = LabConfig.model_validate({"name": unique_name, **cfg})
        return Probe(config, build(config), LabState(config.name, root=tmp_path / "state"), timeout)

    return make
