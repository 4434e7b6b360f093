"""Offline, the lab's own Helm repository: the bundle's chart packages (offline/chart.py) uploaded to the
seeded org's Helm registry in Gitea, where the profiles' Applications read them instead of the charts'
upstream repositories (render/gitops_tree.localizations): the observability chart, and with the kserve
profile cert-manager's and KServe's three charts."""

from __future__ import annotations

from gitopslab.context import Context
from gitopslab.offline import chart
from gitopslab.offline.archive import bundle_dir, loaded_file
from gitopslab.stack.gitea.rbac import ORG
from gitopslab.stack.lab_http import gitea_as_admin
from gitopslab.stack.step import FuncStep, Step


def packages(ctx: Context) -> dict[str, str]:
    """package file -> what it is, for the lab's active profiles."""
    out = {chart.chart_file(): "the observability profile's chart"} if ctx.cfg.observability else {}
    for name, pin in chart.kserve_packages(ctx.cfg).items():
        out[name] = f"the kserve profile's chart {pin[0]} {pin[1]}"
    return out


def upload(ctx: Context) -> None:
    """The loaded bundle's chart packages into the registry (again on a rerun: Gitea replaces them). Every
    package is looked for before the first upload, so a bundle that lacks one changes nothing."""
    paths = [loaded_file(bundle_dir(ctx), name, what) for name, what in packages(ctx).items()]
    with gitea_as_admin(ctx) as api:
        for path in paths:
            api.upload_helm(ORG, path.read_bytes())


def needed(ctx: Context) -> bool:
    return bool(ctx.cfg.offline and packages(ctx))


def step() -> Step:
    # A rerun uploads the same packages again, which the registry takes in place; the journal is enough.
    return FuncStep("gitea.charts", "offline: the profiles' charts into the lab's Gitea Helm registry",
                    lambda c: c.state.is_done("gitea.charts"), upload)
