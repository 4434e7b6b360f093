"""`gitopslab tools`: list the external CLIs, or install the pinned releases."""

from __future__ import annotations

import argparse

DESCRIPTION = """List k3d, kubectl and the Compose plugin: version, where each comes from.

  gitopslab tools                     list
  gitopslab tools install [NAME...]   download the pinned release for this OS/arch into the data dir,
                                      verified against the sha256 pinned in gitopslab for this OS/arch
                                      (never a checksum served beside the file); no pin, no download"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=["list", "install"], default="list")
    parser.add_argument("names", nargs="*", metavar="NAME", help="k3d, kubectl, docker-compose (default: missing ones)")
    parser.add_argument("--force", action="store_true", help="install even when a supported version is on PATH")


def run(args: argparse.Namespace) -> int:
    from gitopslab.drivers import tools
    from gitopslab.errors import UsageError
    from gitopslab.model.versions import TOOLS
    from gitopslab.ui import console, print_json

    unknown = [n for n in args.names if n not in TOOLS]
    if unknown:
        raise UsageError(f"unknown tool(s): {', '.join(unknown)}", hint=f"choose from {', '.join(TOOLS)}")
    if args.action == "install":
        return _install(args.names or list(TOOLS), args.force)
    infos = [tools.find(name) for name in TOOLS]
    if getattr(args, "json", False):
        print_json("tools", [info.__dict__ | {"pinned": TOOLS[info.name].version} for info in infos])
        return 0 if all(i.ok for i in infos) else 1
    from rich.markup import escape
    from rich.table import Table

    table = Table("tool", "version", "source", "path / problem", "pinned")
    for info in infos:
        where = info.path if info.ok else f"{info.problem}; fix: {info.hint}"
        table.add_row(*(escape(cell) for cell in (info.name, info.version or "-", info.source, where or "",
                                                   TOOLS[info.name].version)))
    console().print(table)
    return 0 if all(i.ok for i in infos) else 1


def _install(names: list[str], force: bool) -> int:
    from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TransferSpeedColumn

    from gitopslab.drivers import tools
    from gitopslab.ui import console

    out = console()
    for name in names:
        current = tools.find(name)
        if current.ok and not force:
            out.print(f"{name} {current.version} already usable ({current.path})", markup=False)
            continue
        with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), console=out, transient=True) as bar:
            task = bar.add_task(f"{name} {tools.TOOLS[name].version}", total=None)

            def advance(done: int, total: int | None, task_id: TaskID = task) -> None:
                bar.update(task_id, completed=done, total=total)

            info = tools.install(name, progress=advance)
        out.print(f"installed {name} {info.version} -> {info.path} (checksum verified)", markup=False)
    return 0
