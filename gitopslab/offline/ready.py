"""`up --offline`: before anything changes, name everything the lab would pull that is not here: the
bundle's files and images, and the CLIs preflight would otherwise offer to download."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitopslab.context import Context
from gitopslab.errors import LabError
from gitopslab.offline.archive import MANIFEST, bundle_dir, file_sha256
from gitopslab.offline.needs import k3d_helper_images, lab_needs

LOAD_HINT = ("on a machine with internet run `gitopslab bundle save lab-bundle.tgz` (same profiles), copy the "
             "file here, run `gitopslab bundle load lab-bundle.tgz`, then `gitopslab up --offline` again")


def missing(ctx: Context, docker: Any, only_compose: bool = False) -> list[str]:
    """One line per file or image the lab needs that the state dir or the engine lacks."""
    folder = bundle_dir(ctx)
    needs = lab_needs(ctx, folder, only_compose=only_compose)
    lines = [f"file {name} (in {folder})" for name in needs.files if not (folder / name).is_file()]
    lines += _damaged(folder, [name for name in needs.files if (folder / name).is_file()])
    for ref in needs.images:
        if not docker.image.exists(ref):
            users = needs.engine.get(ref, []) + needs.node.get(ref, [])
            lines.append(f"image {ref} (used by {', '.join(users)})")
    return lines + _tools(only_compose)


def _damaged(folder: Path, names: list[str]) -> list[str]:
    """Files whose sha256 is not the one the loaded bundle's manifest gives (a copy cut short, a
    file changed since): offline, `up` would otherwise read them as they are."""
    manifest = folder / MANIFEST
    try:
        listed = {e["name"]: e["sha256"] for e in json.loads(manifest.read_text(encoding="utf-8"))["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return [f"file {name} (in {folder}) is not from a finished `bundle load` ({manifest} is missing "
                f"or unreadable)" for name in names]
    lines = []
    for name in names:
        actual = file_sha256(folder / name)
        if listed.get(name) != actual:
            lines.append(f"file {name} (in {folder}) differs from the loaded bundle's manifest (sha256 "
                         f"{actual[:12]}..., expected {str(listed.get(name))[:12]}...)")
    return lines


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
