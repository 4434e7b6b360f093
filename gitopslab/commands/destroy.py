"""`gitopslab destroy`: remove everything of this lab, and nothing else."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Remove everything of this lab: its k3d cluster, its containers, volumes and networks
(everything that carries the label io.gitopslab.lab=<lab>; a cluster that only has the lab's name is
left alone) and its hosts-file block, and nothing else. Data is lost. Without --yes, lists what would
be removed and exits 2."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)
    parser.add_argument("--yes", action="store_true", help="really remove (data is lost)")


def _lines(title: str, names: list[str]) -> list[str]:
    return [f"  {title}: {', '.join(names) if names else '(none)'}"]


def _remove_cluster(ctx) -> str:  # type: ignore[no-untyped-def]
    from gitopslab.conductor.plan import cluster_layer_if_tools

    layer, why_not = cluster_layer_if_tools(ctx)
    if layer is None:
        return (f"cluster: not checked ({why_not}); if one exists, delete it with "
                f"`k3d cluster delete {ctx.topo.cluster_name}`")
    if layer.remove():
        return "cluster: deleted"
    return layer.foreign_note() if layer.k3d.cluster_get(layer.name) else "cluster: none"


def _cluster_preview(ctx) -> str:  # type: ignore[no-untyped-def]
    from gitopslab.conductor.plan import cluster_layer_if_tools

    layer, why_not = cluster_layer_if_tools(ctx)
    return layer.preview() if layer is not None else f"cluster: not checked ({why_not})"


def _remove_hosts_block(ctx) -> str | None:  # type: ignore[no-untyped-def]
    from gitopslab.drivers import hosts_file as hosts
    from gitopslab.drivers.hosts_file import elevated_hint
    from gitopslab.errors import LabError

    try:
        return "hosts file: lab block removed" if hosts.remove(ctx.topo.lab) else None
    except LabError as exc:  # typically no permission: the rest is gone, say how to finish
        args = "hosts --remove" + ("" if ctx.topo.lab == hosts.DEFAULT_LAB else f" --name {ctx.topo.lab}")
        return f"hosts file: block left ({exc.message}); remove it with: {elevated_hint(args)}"


def run(args: argparse.Namespace) -> int:
    from gitopslab.context import context_from_args
    from gitopslab.stack import compose_layer
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args)
    out = console()
    if not ctx.assume_yes:
        inv = compose_layer.inventory(ctx)
        cluster = _cluster_preview(ctx)
        if ctx.json:
            print_json("destroy", {"lab": ctx.topo.lab, "removed": False,
                                   "would_remove": {**inv.as_dict(), "cluster": cluster}})
            return 2
        out.print(f"`gitopslab destroy` would remove from lab {ctx.topo.lab}:", markup=False)
        for line in ([f"  {cluster}"] + _lines("containers", inv.containers) + _lines("volumes", inv.volumes)
                     + _lines("networks", inv.networks)):
            out.print(line, markup=False)
        out.print(f"nothing was removed; run `gitopslab destroy --yes --name {ctx.topo.lab}` to remove it (data is lost)",
                  markup=False)
        return 2
    from gitopslab.logsetup import to_file

    with to_file(ctx.state, "destroy"), ctx.state.lock("destroy"):
        cluster_note = _remove_cluster(ctx)
        removed = compose_layer.destroy(ctx)
        hosts_note = _remove_hosts_block(ctx)
        # The lab is gone: the next `up` may use other settings (the recreate path of `up`'s guard).
        ctx.state.settings_file.unlink(missing_ok=True)
    if ctx.json:  # one JSON document on stdout, the notes inside it
        print_json("destroy", {"lab": ctx.topo.lab, "removed": True, "items": removed.as_dict(),
                               "notes": [n for n in (cluster_note, hosts_note) if n]})
        return 0
    out.print(cluster_note, markup=False)
    if hosts_note:
        out.print(hosts_note, markup=False)
    if removed.empty:
        out.print(f"lab {ctx.topo.lab}: nothing to remove", markup=False)
        return 0
    out.print(f"lab {ctx.topo.lab} removed:", markup=False)
    for line in (_lines("containers", removed.containers) + _lines("volumes", removed.volumes)
                 + _lines("networks", removed.networks)):
        out.print(line, markup=False)
    return 0
