"""What every command needs: the effective configuration, the topology derived from it, the lab's
state, and how to print. Built from parsed arguments; commands receive it, never argparse details."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitopslab.model.config import LabConfig, apply_profile, find_config_file, load_config
from gitopslab.model.topology import Topology, build
from gitopslab.state import LabState


@dataclass
class Context:
    cfg: LabConfig
    topo: Topology
    state: LabState
    config_file: Path | None = None
    json: bool = False
    verbose: bool = False
    assume_yes: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    # Live progress of a long action (an image pull's bytes and estimate), drawn by the face (`up`);
    # None where nobody watches, so the driver need not measure.
    progress: Callable[[Any], None] | None = None

    @classmethod
    def from_config(cls, cfg: LabConfig, **kwargs: Any) -> Context:
        return cls(cfg=cfg, topo=build(cfg), state=LabState(cfg.name), **kwargs)


def flags_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Configuration set by flags: --name, --engine, --gpu, --profile (each verb adds what it takes)."""
    flags: dict[str, Any] = {}
    for name in ("name", "engine", "gpu"):
        value = getattr(args, name, None)
        if value is not None:
            flags[name] = value
    if getattr(args, "offline", False):
        flags["offline"] = True
    for profile in getattr(args, "profile", None) or []:
        apply_profile(flags, profile)
    return flags


def context_from_args(args: argparse.Namespace) -> Context:
    path = find_config_file(getattr(args, "config", None), os.environ, Path.cwd())
    cfg = load_config(path, os.environ, flags_from_args(args))
    return Context.from_config(
        cfg,
        config_file=path,
        json=bool(getattr(args, "json", False)),
        verbose=bool(getattr(args, "verbose", False)),
        assume_yes=bool(getattr(args, "yes", False)),
    )
