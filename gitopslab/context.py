"""What every command needs: the effective configuration, the topology derived from it, the lab's
state, and how to print. Built from parsed arguments; commands receive it, never argparse details."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitopslab.config import LabConfig, apply_profile, find_config_file, load_config
from gitopslab.state import LabState
from gitopslab.topology import Topology, build


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


def add_lab_options(parser: argparse.ArgumentParser, profile: bool = False) -> None:
    """Options that select or shape a lab; shared by the verbs that act on one."""
    parser.add_argument("--name", help="lab name (default: gitopslab; several labs can coexist)")
    parser.add_argument("--engine", choices=["auto", "docker", "podman"], help="container engine")
    if profile:
        parser.add_argument("--profile", action="append", metavar="NAME",
                            help="core (default), gpu, observability; repeat to combine")
        parser.add_argument("--gpu", choices=["off", "on", "auto"],
                            help="GPU node: on refuses without a GPU, auto falls back to CPU")
