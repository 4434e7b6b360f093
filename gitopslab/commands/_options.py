"""Options shared by verbs. Kept free of heavy imports: `--help` builds every parser."""

from __future__ import annotations

import argparse


def add_lab_options(parser: argparse.ArgumentParser, profile: bool = False) -> None:
    """Options that select or shape a lab; shared by the verbs that act on one."""
    parser.add_argument("--name", help="lab name (default: gitopslab; several labs can coexist)")
    parser.add_argument("--engine", choices=["auto", "docker", "podman"], help="container engine")
    if profile:
        parser.add_argument("--profile", action="append", metavar="NAME",
                            help="core (default), gpu, observability; repeat to combine")
        parser.add_argument("--gpu", choices=["off", "on", "auto"],
                            help="GPU node: on refuses without a GPU, auto falls back to CPU")
