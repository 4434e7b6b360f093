"""`gitopslab config`: the effective settings (after file, GITOPSLAB_* and flags), or their schema."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Show the effective configuration, validate it, or print its JSON schema.

  gitopslab config              the effective settings as YAML (defaults + file + env + flags)
  gitopslab config schema       the JSON schema of gitopslab.yaml (for editor autocompletion)
  gitopslab config validate     check gitopslab.yaml; one line per problem, exit 2 when invalid"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=["show", "schema", "validate"], default="show")
    add_lab_options(parser, profile=True)


def run(args: argparse.Namespace) -> int:
    import json

    import yaml

    from gitopslab.ui import console, print_json

    if args.action == "schema":
        from gitopslab.model.config import json_schema

        print(json.dumps(json_schema(), indent=2))
        return 0
    from gitopslab.commands._options import context_from_args
    from gitopslab.render.proxy import redacted

    ctx = context_from_args(args)  # raises ConfigError (exit 2) listing every problem
    data = redacted(ctx.cfg).model_dump(mode="json")  # proxy user:pass -> ***
    source = str(ctx.config_file) if ctx.config_file else "defaults (no gitopslab.yaml)"
    if args.action == "validate":  # an invalid one raised above: exit 2, and with --json an error document
        if ctx.json:
            print_json("config-validate", {"valid": True, "source": source, "profiles": ctx.cfg.profiles})
        else:
            console().print(f"configuration is valid: {source}", markup=False)
        return 0
    origins = _origins(args, ctx.config_file)
    if ctx.json:
        print_json("config", {"source": source, "profiles": ctx.cfg.profiles, "settings": data,
                              "sources": origins})
        return 0
    console().print(f"# source: {source}; profiles: {', '.join(ctx.cfg.profiles)}", markup=False)
    console().print(yaml.safe_dump(data, sort_keys=False), end="", markup=False)
    lines = [f"#   {key}: {origin}" for key, origin in origins.items()]
    console().print("\n".join(["# where each setting came from (every other one is a default):",
                               *(lines or ["#   (none: all defaults)"])]), markup=False)
    return 0


def _origins(args: argparse.Namespace, config_file: object) -> dict[str, str]:
    """Dotted field -> file PATH / env NAME / flag, for every field not left at its default."""
    import os
    from pathlib import Path

    from gitopslab.commands._options import flags_from_args
    from gitopslab.model.config import value_sources

    path = Path(str(config_file)) if config_file else None
    return value_sources(path, os.environ, flags_from_args(args))
