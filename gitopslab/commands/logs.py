"""`gitopslab logs [SERVICE]`: a compose-layer service's logs (all of them without SERVICE), or a
cluster service's (argocd, hello-api, mlflow, ...) through kubectl with the lab's kubeconfig."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gitopslab.commands._options import add_lab_options

if TYPE_CHECKING:
    from gitopslab.context import Context
    from gitopslab.drivers import proc
    from gitopslab.model.topology import Service, Topology

DESCRIPTION = """Show the logs of a compose-layer service: gitea, registry, woodpecker-server,
woodpecker-agent, edge (woodpecker = woodpecker-server). Without SERVICE, all of them.
A cluster service (argocd, hello-api, mlflow, minio, minio-console, dashboard; grafana, prometheus,
alertmanager with the observability profile) shows the logs of a pod behind its Service
(`kubectl logs svc/NAME --all-containers`) with the lab's kubeconfig."""
ALIASES = {"woodpecker": "woodpecker-server", "agent": "woodpecker-agent"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)
    parser.add_argument("service", nargs="?", metavar="SERVICE", help="gitea, registry, woodpecker-server, ...")
    parser.add_argument("--tail", type=int, default=200, metavar="N", help="last N lines (default 200)")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")


def run(args: argparse.Namespace) -> int:
    from gitopslab.commands._options import context_from_args
    from gitopslab.errors import UsageError
    from gitopslab.stack import compose_layer

    services: list[str] = []
    ctx = context_from_args(args, lab_profiles=True)
    if args.service:
        name = ALIASES.get(args.service, args.service)
        cluster = cluster_services(ctx.topo)
        if name not in compose_layer.COMPONENTS and args.service in cluster:
            return cluster_logs(ctx, cluster[args.service], tail=args.tail, follow=args.follow)
        if name not in compose_layer.COMPONENTS:
            raise UsageError(f"no lab service {args.service!r}; compose: {', '.join(compose_layer.COMPONENTS)}; "
                             f"cluster: {', '.join(sorted(cluster))}",
                             hint="gitopslab logs <one of the names above>")
        services = [name]
    lab = compose_layer.lab(ctx)
    if args.follow:
        for chunk in lab.follow_logs(services):
            _show(chunk)
        return 0
    _show(lab.logs(services, tail=args.tail))
    return 0


def _show(text: str) -> None:
    """A container's words, its control sequences shown as text, never obeyed (terminal_text.clean):
    a workload's log line could otherwise clear the screen or write the clipboard (OSC 52)."""
    import sys

    from gitopslab.terminal_text import clean

    sys.stdout.write(clean(text))
    sys.stdout.flush()


def cluster_services(topo: Topology) -> dict[str, Service]:
    """Name on the command line (`hello-api`, `hello_api`, `minio`) -> the cluster service."""
    names: dict[str, Service] = {}
    for svc in topo.by_layer("cluster"):
        if svc.namespace and svc.k8s_service:
            for word in (svc.key, svc.key.replace("_", "-"), svc.k8s_service):
                names.setdefault(word, svc)
    if "minio_api" in names:
        names.setdefault("minio", names["minio_api"])
    return names


def cluster_logs(ctx: Context, svc: Service, *, tail: int, follow: bool,
                 runner: proc.Runner | None = None) -> int:
    """`kubectl logs svc/NAME` in the service's namespace with the lab's kubeconfig (secrets redacted)."""
    from gitopslab.drivers import proc, tools
    from gitopslab.drivers.k3d import context_name
    from gitopslab.drivers.kube import Kubectl
    from gitopslab.errors import LabError

    if not ctx.state.kubeconfig.is_file():
        raise LabError(f"lab {ctx.cfg.name!r} has no cluster yet ({ctx.state.kubeconfig} is missing), so "
                       f"{svc.key} has no logs", hint="gitopslab up")
    kube = Kubectl(ctx.state.kubeconfig, context_name(ctx.topo.cluster_name),
                   binary=tools.path_of("kubectl") if runner is None else "kubectl", runner=runner,
                   secrets=ctx.state.secrets().values())
    args = ["logs", "-n", str(svc.namespace), f"svc/{svc.k8s_service}", "--all-containers", "--prefix",
            f"--tail={tail}"]
    if follow:  # streamed, line by line, until Ctrl-C
        return proc.call(kube.command(*args, "--follow"), through=_show)
    _show(kube.run(*args, timeout=60))
    return 0
