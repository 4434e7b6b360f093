"""Offline, the lab's own Helm repository: the bundle's observability chart (offline/chart.py) uploaded
to the seeded org's Helm registry in Gitea, where the profile's Application reads it instead of the
chart's upstream repository (render/gitops_tree.localizations)."""

from __future__ import annotations

from gitopslab.context import Context
from gitopslab.offline import chart
from gitopslab.offline.archive import bundle_dir, loaded_file
from gitopslab.stack.gitea.rbac import ORG
from gitopslab.stack.lab_http import gitea_as_admin
from gitopslab.stack.step import FuncStep, Step


def upload(ctx: Context) -> None:
    """The loaded bundle's chart package into the registry (again on a rerun: Gitea replaces it)."""
    path = loaded_file(bundle_dir(ctx), chart.chart_file(), "the observability profile's chart")
    with gitea_as_admin(ctx) as api:
        api.upload_helm(ORG, path.read_bytes())


def step() -> Step:
    # A rerun uploads the same package again, which the registry takes in place; the journal is enough.
    return FuncStep("gitea.charts", "offline: the observability chart into the lab's Gitea Helm registry",
                    lambda c: c.state.is_done("gitea.charts"), upload)
