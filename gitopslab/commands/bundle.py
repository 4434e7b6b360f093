"""`gitopslab bundle`: carry everything the lab pulls in one file, for a room without a network."""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Classroom mode. On a machine with internet, `bundle save` writes one file with every image
the lab pulls (compose services, k3s and its system images, Argo CD, the GitOps tree's workloads, the
pipeline steps and the clone plugin, the observability chart's) and the files `up` fetches (Argo CD's
install manifest, k3s's image list, the pipelines' Python wheels, the observability chart: its images
are read from `helm template`, so saving that profile needs helm), with a manifest of ids and
checksums. On each laptop, `bundle load` puts the images into the engine and the files into the lab's
state dir; then `gitopslab up --offline` pulls nothing.

examples:
  gitopslab bundle list                          what a bundle for this lab holds
  gitopslab bundle save lab-bundle.tgz           pull what is missing, then write the bundle
  gitopslab bundle save core.tar --only compose  the compose services only, from the local engine
  gitopslab bundle load lab-bundle.tgz           on a laptop: images into the engine, files into state"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser, profile=True)
    parser.add_argument("action", choices=["list", "save", "load"],
                        help="list: what a bundle for this lab holds; save: write one; load: put one in place")
    parser.add_argument("file", nargs="?", type=Path,
                        help="the bundle file (save: .tgz/.tar.gz is gzip, any other name a plain tar)")
    parser.add_argument("--no-pull", action="store_true", help="save: refuse instead of pulling a missing image")
    parser.add_argument("--only", choices=["compose"], help="save: only the compose services' images")
    parser.add_argument("--files-from", type=Path, metavar="DIR",
                        help="save: take the files (argocd-install.yaml, k3s-images.txt, wheelhouse.tar, ...; "
                             "`bundle list` names them) from DIR instead of downloading")


def run(args: argparse.Namespace) -> int:
    from gitopslab.commands._options import context_from_args
    from gitopslab.errors import UsageError

    if args.action != "list" and args.file is None:
        raise UsageError(f"bundle {args.action} needs a file", hint=f"gitopslab bundle {args.action} lab-bundle.tgz")
    ctx = context_from_args(args)
    return {"list": _list, "save": _save, "load": _load}[args.action](ctx, args)


def _docker(ctx: Any) -> Any:
    from gitopslab.drivers import engine

    return engine.client(ctx.engine())


@contextlib.contextmanager
def _engine_errors(action: str) -> Iterator[None]:
    """DockerException -> EngineError naming the action (engine.translate)."""
    from python_on_whales.exceptions import DockerException

    from gitopslab.drivers.engine import translate

    try:
        yield
    except DockerException as exc:
        raise translate(exc, action) from exc


def _list(ctx: Any, args: argparse.Namespace) -> int:
    from gitopslab.offline.archive import bundle_dir
    from gitopslab.offline.needs import lab_needs
    from gitopslab.ui import console, print_json

    needs = lab_needs(ctx, bundle_dir(ctx))
    if args.json:
        print_json("bundle-list", needs.as_dict())
        return 0
    out = console()
    for title, images in (("engine images", needs.engine), ("node images (also in the engine)", needs.node)):
        out.print(f"{title}:", markup=False, style="bold")
        for ref, users in sorted(images.items()):
            out.print(f"  {ref:<70} {', '.join(users)}", markup=False)
    out.print(f"files: {', '.join(needs.files)}", markup=False)
    if needs.later:
        # Not an omission: these images are read from files `bundle save` fetches (bundle load keeps them).
        out.print("decided at save time (read from a file bundle save fetches; not here yet):", markup=False,
                  style="bold")
        for item in needs.later:
            out.print(f"  {item['images_of']}: the images {item['read_from']} names", markup=False)
    return 0


def _save(ctx: Any, args: argparse.Namespace) -> int:
    from gitopslab.offline import archive, fetch
    from gitopslab.offline.needs import lab_needs
    from gitopslab.ui import console

    out = console()
    started = time.monotonic()
    with fetch.files_for(ctx, only_compose=bool(args.only), source=args.files_from) as files:
        needs = lab_needs(ctx, files.folder, only_compose=bool(args.only))
        with _engine_errors("saving the bundle"):
            result = archive.save(_docker(ctx), needs, files.paths, args.file.resolve(), pull=not args.no_pull,
                                  progress=lambda line: out.print(line, markup=False, style="dim"))
    out.print(f"bundle {result.path}: {result.images} images, {len(files.paths)} files, "
              f"{result.bytes / 2**20:.0f} MiB in {time.monotonic() - started:.0f} s", markup=False)
    return 0


def _load(ctx: Any, args: argparse.Namespace) -> int:
    from gitopslab.offline import archive
    from gitopslab.ui import console

    out = console()
    started = time.monotonic()
    with _engine_errors(f"loading {args.file}"):
        result = archive.load(_docker(ctx), args.file.resolve(), archive.bundle_dir(ctx),
                              progress=lambda line: out.print(line, markup=False, style="dim"))
    out.print(f"loaded {len(result.images)} images and {len(result.files)} files in "
              f"{time.monotonic() - started:.0f} s; now: gitopslab up --offline", markup=False)
    return 0
