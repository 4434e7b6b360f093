"""Offline, the lab's own PyPI: the bundle's wheelhouse (offline/wheelhouse.py) uploaded to the seeded
org's package registry in Gitea, so every pip of the lab (render/pipelines.pip_index: hello-api's
image build, the CI steps, the first model) installs without reaching PyPI."""

from __future__ import annotations

from gitopslab.context import Context
from gitopslab.offline import wheelhouse
from gitopslab.offline.archive import bundle_dir, loaded_file
from gitopslab.stack.gitea.rbac import ORG
from gitopslab.stack.lab_http import gitea_as_admin
from gitopslab.stack.step import FuncStep, Step


def upload(ctx: Context) -> int:
    """Every wheel of the loaded bundle into the registry; how many were new (a second run: 0)."""
    path = loaded_file(bundle_dir(ctx), wheelhouse.WHEELHOUSE, "the pipelines' Python packages")
    new = 0
    with gitea_as_admin(ctx) as api:
        for filename, content in wheelhouse.wheels(path):
            name, version = wheelhouse.name_and_version(filename)
            new += api.upload_pypi(ORG, filename, content, name, version)
    return new


def step() -> Step:
    # Uploads are idempotent (the registry answers 409 for a file it holds), so the journal is enough.
    return FuncStep("gitea.wheels", "offline: the bundle's Python packages into the lab's Gitea PyPI registry",
                    lambda c: c.state.is_done("gitea.wheels"), upload)
