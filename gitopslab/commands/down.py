"""`gitopslab down`."""

from __future__ import annotations

import argparse

from gitopslab.commands._notbuilt import refuse
from gitopslab.commands._options import add_lab_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)


def run(args: argparse.Namespace) -> int:
    return refuse("down", "not built yet")
