"""`gitopslab kubeconfig`: the export line for the lab's kubeconfig (kept in the state dir), or with
`--merge` the lab's context merged into ~/.kube/config (only when asked; the current context is kept).
With the multicluster profile there is a context per cluster: KUBECONFIG lists both files (the first
cluster's first, so its context stays the current one) and --merge merges both."""

from __future__ import annotations

import argparse
import sys

from gitopslab.commands._options import add_lab_options

DESCRIPTION = (
    "Print the shell line that points kubectl at the lab's cluster:\n"
    "  eval \"$(gitopslab kubeconfig)\"\n"
    "or merge the lab's context into ~/.kube/config with --merge (your current context is kept)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)
    parser.add_argument("--merge", action="store_true",
                        help="merge the lab's context into ~/.kube/config (does not switch to it)")


def export_line(path: str, platform: str = sys.platform, *more: str) -> str:
    """Quoted for the shell that evaluates it: a state dir named `$(rm -rf ~)` or `a;b` stays a path.
    Further paths (the production cluster's) join the list kubectl reads (`:`; `;` on Windows)."""
    path = (";" if platform == "win32" else ":").join([path, *more])
    if platform == "win32":
        # PowerShell: a single-quoted string expands nothing; a quote inside is written twice.
        return "$env:KUBECONFIG = '" + path.replace("'", "''") + "'"
    import shlex

    return f"export KUBECONFIG={shlex.quote(path)}"


def run(args: argparse.Namespace) -> int:
    from gitopslab.commands._options import context_from_args
    from gitopslab.drivers.k3d import K3d, context_name
    from gitopslab.errors import LabError
    from gitopslab.ui import print_json

    ctx = context_from_args(args)
    path = ctx.state.kubeconfig
    if not path.is_file():
        raise LabError(f"lab {ctx.cfg.name!r} has no kubeconfig yet ({path} is missing)",
                       hint="bring the lab up first: `gitopslab up`")
    from gitopslab.model.topology import prd_cluster_name

    # The production cluster's (multicluster), where `up` made one for this lab.
    prd_path = ctx.state.kubeconfig_prd
    clusters = [ctx.topo.cluster_name] + ([prd_cluster_name(ctx.topo.lab)] if prd_path.is_file() else [])
    paths = [str(path)] + ([str(prd_path)] if prd_path.is_file() else [])
    merged = False
    if args.merge:
        for cluster in clusters:
            K3d(binary=_k3d_binary()).kubeconfig_merge_default(cluster)
        merged = True
    if ctx.json:
        print_json("kubeconfig", {"path": str(path), "context": context_name(ctx.topo.cluster_name),
                                  "merged": merged, "paths": paths,
                                  "contexts": [context_name(c) for c in clusters]})
        return 0
    if merged:
        # Plain write: a command a person copies must not be wrapped.
        for cluster in clusters:
            sys.stdout.write(f"merged context {context_name(cluster)} into ~/.kube/config\n")
        sys.stdout.write(f"switch to it with: kubectl config use-context {context_name(ctx.topo.cluster_name)}\n")
        return 0
    sys.stdout.write(export_line(paths[0], sys.platform, *paths[1:]) + "\n")
    return 0


def _k3d_binary() -> str:
    try:
        from gitopslab.drivers.tools import path_of  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # tools module not in this build: k3d from PATH
        return "k3d"
    return str(path_of("k3d"))
