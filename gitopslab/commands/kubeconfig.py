"""`gitopslab kubeconfig`: the export line for the lab's kubeconfig (kept in the state dir), or with
`--merge` the lab's context merged into ~/.kube/config (only when asked; the current context is kept)."""

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


def export_line(path: str, platform: str = sys.platform) -> str:
    """Quoted for the shell that evaluates it: a state dir named `$(rm -rf ~)` or `a;b` stays a path."""
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
    merged = False
    if args.merge:
        K3d(binary=_k3d_binary()).kubeconfig_merge_default(ctx.topo.cluster_name)
        merged = True
    if ctx.json:
        print_json("kubeconfig", {"path": str(path), "context": context_name(ctx.topo.cluster_name),
                                  "merged": merged})
        return 0
    if merged:
        # Plain write: a command a person copies must not be wrapped.
        sys.stdout.write(f"merged context {context_name(ctx.topo.cluster_name)} into ~/.kube/config\n"
                         f"switch to it with: kubectl config use-context {context_name(ctx.topo.cluster_name)}\n")
        return 0
    sys.stdout.write(export_line(str(path)) + "\n")
    return 0


def _k3d_binary() -> str:
    try:
        from gitopslab.drivers.tools import path_of  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # tools module not in this build: k3d from PATH
        return "k3d"
    return str(path_of("k3d"))
