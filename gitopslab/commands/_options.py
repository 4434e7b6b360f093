"""Options shared by verbs. Kept free of heavy imports: `--help` builds every parser."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitopslab.context import Context


def add_lab_options(parser: argparse.ArgumentParser, profile: bool = False) -> None:
    """Options that select or shape a lab; shared by the verbs that act on one."""
    parser.add_argument("--name", help="lab name (default: gitopslab; several labs can coexist)")
    parser.add_argument("--engine", choices=["auto", "docker", "podman"], help="container engine")
    if profile:
        parser.add_argument("--profile", action="append", metavar="NAME",
                            help="core (default), gpu, observability; repeat to combine")
        parser.add_argument("--gpu", choices=["off", "on", "auto"],
                            help="GPU node: on refuses without a GPU, auto falls back to CPU")


def flags_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Configuration set by flags: --name, --engine, --gpu, --profile (each verb adds what it takes)."""
    from gitopslab.model.config import apply_profile

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
    """The face turns parsed arguments into the Context everything below it works with."""
    import os
    from pathlib import Path

    from gitopslab.context import Context
    from gitopslab.model.config import find_config_file, load_config

    path = find_config_file(getattr(args, "config", None), os.environ, Path.cwd())
    cfg = load_config(path, os.environ, flags_from_args(args))
    return Context.from_config(
        cfg,
        config_file=path,
        json=bool(getattr(args, "json", False)),
        verbose=bool(getattr(args, "verbose", False)),
        assume_yes=bool(getattr(args, "yes", False)),
    )
