"""`gitopslab render --out DIR`: every generated artifact, as `up` would apply it, without secrets."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Write every generated artifact to DIR: the compose environment, the k3d cluster
config, registries.yaml, the hosts-file block, CoreDNS/host entries, the edge forwarder config, the
Argo CD bootstrap objects and the URL table. A pure function of the configuration: secret values are
placeholders (<secret:NAME>). Prints the memory the core profile's containers may use."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write into (created)")
    add_lab_options(parser, profile=True)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gitopslab import render
    from gitopslab.commands._options import context_from_args
    from gitopslab.lint.footprint import profiles_footprint
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args)
    out = Path(args.out)
    written = render.write(out, render.artifacts(ctx.cfg, ctx.topo))
    footprint = profiles_footprint(ctx.cfg)
    if ctx.json:
        print_json("render", {"out": str(out), "files": [str(p.relative_to(out)) for p in written],
                              "memory_limits": footprint})
        return 0
    c = console()
    for path in written:
        c.print(f"wrote {path}", markup=False)
    objects: dict[str, int] = footprint["objects"]  # type: ignore[assignment]
    for name, size in sorted(objects.items(), key=lambda kv: -kv[1]):
        c.print(f"  {size / 2**20:>7.0f} MiB  {name}", markup=False)
    total = float(footprint["total_gib"])  # type: ignore[arg-type]
    verdict = "within" if total <= ctx.cfg.resources.memory_gib else "OVER"
    c.print(f"memory limits of the {'+'.join(ctx.cfg.profiles)} workloads in gitops/: {total:.2f} GiB "
            f"({verdict} the {ctx.cfg.resources.memory_gib:g} GiB budget; Argo CD, k3s and the compose "
            f"layer come on top)", markup=False)
    return 0
