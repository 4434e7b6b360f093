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


def run(args: argparse.Namespace) -> int:
    from gitopslab.commands._options import context_from_args
    from gitopslab.conductor import destroy
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args)
    out, lab = console(), ctx.topo.lab
    if not ctx.assume_yes:
        would = destroy.preview(ctx)
        nothing = would["cluster"] == "cluster: (none)" and "cluster_prd" not in would and not any(
            would[k] for k in ("containers", "volumes", "networks"))
        if ctx.json:
            print_json("destroy", {"lab": lab, "removed": False, "would_remove": would, "nothing": nothing,
                                   "state_dir": str(ctx.state.dir)})
            return 0 if nothing else 2
        if nothing:  # nothing to confirm: not a usage error
            out.print(f"lab {lab}: nothing to remove; its state dir (secrets, settings) is {ctx.state.dir}",
                      markup=False)
            return 0
        out.print(f"`gitopslab destroy` would remove from lab {lab}:", markup=False)
        prd = [f"  {would['cluster_prd']}"] if "cluster_prd" in would else []  # multicluster
        for line in ([f"  {would['cluster']}", *prd] + _lines("containers", would["containers"])
                     + _lines("volumes", would["volumes"]) + _lines("networks", would["networks"])):
            out.print(line, markup=False)
        out.print(f"nothing was removed; run `gitopslab destroy --yes --name {lab}` to remove it (data is lost)",
                  markup=False)
        return 2
    from gitopslab.logsetup import to_file

    with to_file(ctx.state, "destroy"):
        result = destroy.destroy(ctx)
    kept = (f"kept: the state dir {ctx.state.dir} (secrets the next `up` reuses; delete it to forget them, "
            "as docs/INSTALLATION.md's uninstall says)")
    if ctx.json:  # one JSON document on stdout, the notes inside it
        print_json("destroy", {"lab": lab, "removed": True, "items": result["items"],
                               "notes": [*result["notes"], kept], "state_dir": str(ctx.state.dir)})
        return 0
    for note in [*result["notes"], kept]:
        out.print(note, markup=False)
    if result["empty"]:
        out.print(f"lab {lab}: nothing to remove", markup=False)
        return 0
    items = result["items"]
    out.print(f"lab {lab} removed:", markup=False)
    for line in (_lines("containers", items["containers"]) + _lines("volumes", items["volumes"])
                 + _lines("networks", items["networks"])):
        out.print(line, markup=False)
    return 0
