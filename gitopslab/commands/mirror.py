"""`gitopslab mirror`: pull-through registries for a room, run on the instructor's machine."""

from __future__ import annotations

import argparse

DESCRIPTION = """Run pull-through mirrors of docker.io, quay.io, ghcr.io, registry.k8s.io and nvcr.io on this
machine: one container of the lab's pinned registry in proxy mode each, on consecutive ports, each
with a cache volume. The first laptop's pull fills the cache; the other laptops get it from there.
Participants put the printed `mirrors:` block in their gitopslab.yaml (docs/CLASSROOM.md).

By default the mirrors listen on 127.0.0.1 only. For a room, pass this machine's address on the room's
network, for example `--address 192.168.1.10`, or `--address 0.0.0.0` to listen everywhere.

examples:
  gitopslab mirror up --address 192.168.1.10        start (or keep) all five; print the participants' block
  gitopslab mirror up --only docker.io --port 5201  one mirror
  gitopslab mirror status
  gitopslab mirror down --drop-cache                remove the containers and their caches"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--address", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; a room needs this machine's LAN address)")
    parser.add_argument("--port", type=int, default=5101, help="first port; the mirrors take consecutive ports")
    parser.add_argument("--only", action="append", metavar="REGISTRY", default=[],
                        help="only this upstream registry (repeat for several)")
    parser.add_argument("--upstream", action="append", metavar="REGISTRY=URL", default=[],
                        help="fetch REGISTRY's images from URL instead (a company registry, or another mirror)")
    parser.add_argument("--drop-cache", action="store_true", help="down: remove the cache volumes too")


def run(args: argparse.Namespace) -> int:
    from gitopslab.commands._options import context_from_args
    from gitopslab.drivers import engine
    from gitopslab.errors import UsageError
    from gitopslab.stack import mirror
    from gitopslab.ui import console, print_json

    upstreams = {}
    for item in args.upstream:
        registry, sep, url = item.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise UsageError(f"--upstream {item!r} is not REGISTRY=URL", hint="--upstream docker.io=https://mirror.corp")
        upstreams[registry] = url
    cfg = context_from_args(args).cfg  # the engine and the registry image the lab pins
    docker = engine.client(engine.detect(cfg.engine))
    out = console()
    if args.action == "status":
        rows = mirror.running(docker)
        if args.json:
            print_json("mirror-status", [{"registry": r, "container": c, "state": s} for r, c, s in rows])
            return 0
        if not rows:  # no mirror is not a failure: say so, and how to start them
            out.print("no registry mirror on this machine; start them with `gitopslab mirror up` "
                      "(docs/CLASSROOM.md)", markup=False)
        for registry, container, state in rows:
            out.print(f"  {registry:<16} {container:<40} {state}", markup=False)
        return 0
    if args.action == "down":
        for line in mirror.remove(docker, args.drop_cache):
            out.print(f"removed {line}", markup=False)
        return 0
    planned = mirror.plan(args.port, args.only, upstreams)
    for line in mirror.ensure(docker, planned, cfg.image("registry"), args.address, cfg.timeouts.service_ready,
                              room_mirrors=cfg.mirrors.registries()):
        out.print(line, markup=False)
    advertise = args.address if args.address not in ("0.0.0.0", "") else "<this machine's address>"
    out.print("\nParticipants add to gitopslab.yaml (an http mirror also needs Docker's insecure-registries, "
              "docs/CLASSROOM.md):\n", markup=False)
    out.print(mirror.participants_config(planned, advertise), markup=False)
    return 0
