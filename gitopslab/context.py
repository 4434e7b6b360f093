"""What every command needs: the effective configuration, the topology derived from it, the lab's
state, and the callbacks through which the face watches long actions. Built by the face
(gitopslab/commands/_options.py: `context_from_args`); nothing below the face sees argparse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import Topology, build
from gitopslab.state import LabState

if TYPE_CHECKING:
    from gitopslab.drivers.engine import EngineInfo


def _quiet(_: Any) -> None:
    return None


@dataclass
class Context:
    cfg: LabConfig
    topo: Topology
    state: LabState
    config_file: Path | None = None
    json: bool = False
    verbose: bool = False
    assume_yes: bool = False
    # Live progress of a long action (an image pull's bytes and estimate), drawn by the face (`up`);
    # None where nobody watches, so the driver need not measure.
    progress: Callable[[Any], None] | None = None
    # Snapshots and notes the stack reports while it works (Argo CD's app table during the final wait,
    # a line worth telling the person); the face decides how to draw them. Quiet by default.
    report: Callable[[Any], None] = _quiet
    _engine: EngineInfo | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, cfg: LabConfig, **kwargs: Any) -> Context:
        return cls(cfg=cfg, topo=build(cfg), state=LabState(cfg.name), **kwargs)

    def engine(self) -> EngineInfo:
        """The container engine this lab uses, detected once per context."""
        if self._engine is None:
            from gitopslab.drivers.engine import detect

            self._engine = detect(self.cfg.engine)
        return self._engine
