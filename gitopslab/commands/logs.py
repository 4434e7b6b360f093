"""`gitopslab logs [SERVICE]`: a compose-layer service's logs (all of them without SERVICE)."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Show the logs of a compose-layer service: gitea, registry, woodpecker-server,
woodpecker-agent, edge (woodpecker = woodpecker-server). Without SERVICE, all of them."""
ALIASES = {"woodpecker": "woodpecker-server", "agent": "woodpecker-agent"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)
    parser.add_argument("service", nargs="?", metavar="SERVICE", help="gitea, registry, woodpecker-server, ...")
    parser.add_argument("--tail", type=int, default=200, metavar="N", help="last N lines (default 200)")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")


def run(args: argparse.Namespace) -> int:
    import sys

    from gitopslab.context import context_from_args
    from gitopslab.errors import UsageError
    from gitopslab.stack import compose_layer

    services: list[str] = []
    if args.service:
        name = ALIASES.get(args.service, args.service)
        if name not in compose_layer.COMPONENTS:
            raise UsageError(f"no compose service {args.service!r}; services: {', '.join(compose_layer.COMPONENTS)}",
                             hint="cluster services log through kubectl (see `gitopslab kubeconfig`)")
        services = [name]
    ctx = context_from_args(args)
    lab = compose_layer.lab(ctx)
    if args.follow:
        for chunk in lab.follow_logs(services):
            sys.stdout.write(chunk)
            sys.stdout.flush()
        return 0
    sys.stdout.write(lab.logs(services, tail=args.tail))
    return 0
