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
                            help="core (default), gpu, observability, multicluster, kserve; repeat to combine")
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


def context_from_args(args: argparse.Namespace, lab_profiles: bool = False) -> Context:
    """The face turns parsed arguments into the Context everything below it works with.

    lab_profiles: the verbs that look at a running lab (urls, open, logs, doctor) also see the profiles
    it was brought up with (`up --profile observability` once, then `gitopslab urls` lists Grafana)."""
    import os
    from pathlib import Path

    from gitopslab.context import Context
    from gitopslab.model.config import find_config_file, load_config

    path = find_config_file(getattr(args, "config", None), os.environ, Path.cwd())
    flags = flags_from_args(args)
    cfg = load_config(path, os.environ, flags)
    stored = stored_profile_flags(cfg) if lab_profiles else {}
    if stored:
        cfg = load_config(path, os.environ, {**stored, **flags})
    return Context.from_config(
        cfg,
        config_file=path,
        json=bool(getattr(args, "json", False)),
        verbose=bool(getattr(args, "verbose", False)),
        assume_yes=bool(getattr(args, "yes", False)),
    )


def stored_profile_flags(cfg: Any) -> dict[str, Any]:
    """The profiles `up` stored for this lab (settings.json) that the settings at hand leave off."""
    from gitopslab.errors import LabError
    from gitopslab.state import LabState

    try:
        lab = (LabState(cfg.name).stored_settings() or {}).get("lab") or {}
    except LabError:  # an unreadable settings file: the verb goes on with the settings at hand
        return {}
    flags: dict[str, Any] = {}
    if "observability" in (lab.get("profiles") or []) and not cfg.observability:
        flags["observability"] = True
    if "multicluster" in (lab.get("profiles") or []) and not cfg.multicluster:
        flags["multicluster"] = True
    if "kserve" in (lab.get("profiles") or []) and not cfg.kserve:
        flags["kserve"] = True
    if cfg.gpu == "off" and lab.get("gpu") in ("on", "auto"):
        flags["gpu"] = lab["gpu"]
    return flags
