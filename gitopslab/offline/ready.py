"""`up --offline`: before anything changes, name everything the lab would pull that is not here: the
bundle's files and images, and the CLIs preflight would otherwise offer to download."""

from __future__ import annotations

from typing import Any

from gitopslab.context import Context
from gitopslab.errors import LabError
from gitopslab.offline.archive import bundle_dir
from gitopslab.offline.needs import k3d_helper_images, lab_needs

LOAD_HINT = ("on a machine with internet run `gitopslab bundle save lab-bundle.tgz` (same profiles), copy the "
             "file here, run `gitopslab bundle load lab-bundle.tgz`, then `gitopslab up --offline` again")


def missing(ctx: Context, docker: Any, only_compose: bool = False) -> list[str]:
    """One line per file or image the lab needs that the state dir or the engine lacks."""
    folder = bundle_dir(ctx)
    needs = lab_needs(ctx, folder, only_compose=only_compose)
    lines = [f"file {name} (in {folder})" for name in needs.files if not (folder / name).is_file()]
    for ref in needs.images:
        if not docker.image.exists(ref):
            users = needs.engine.get(ref, []) + needs.node.get(ref, [])
            lines.append(f"image {ref} (used by {', '.join(users)})")
    return lines + _tools(only_compose)


def _tools(only_compose: bool) -> list[str]:
    """The CLIs `up` runs: offline, preflight cannot download them. k3d must be the pinned version:
    it runs helper images tagged with its own version (k3d-proxy, k3d-tools), and the bundle carries
    the pinned version's only (offline/needs.py: k3d_helper_images)."""
    from gitopslab.drivers import tools
    from gitopslab.model.versions import TOOLS

    lines = []
    for name in ("docker-compose",) if only_compose else ("docker-compose", "k3d", "kubectl"):
        info = tools.find(name)
        if not info.ok:
            lines.append(f"tool {name}: {info.problem} (install it while online: {info.hint})")
        elif name == "k3d" and not tools.find(name, exact=True).ok:
            pinned = TOOLS[name].version
            helpers = ", ".join(sorted(k3d_helper_images()))
            lines.append(f"tool k3d: {info.path} is k3d {info.version}; offline it would pull its own helper "
                         f"images (k3d-proxy:{info.version}), and the bundle carries k3d {pinned}'s ({helpers}) "
                         f"(install k3d {pinned} while online: `gitopslab tools install k3d --force`; gitopslab then "
                         f"uses its own copy offline)")
    return lines


def require_ready(ctx: Context, docker: Any, only_compose: bool = False) -> None:
    lacking = missing(ctx, docker, only_compose)
    if lacking:
        listed = "\n  ".join(lacking)
        raise LabError(f"offline: {len(lacking)} thing(s) the lab needs are not here; nothing was changed:\n  {listed}",
                       hint=LOAD_HINT)
