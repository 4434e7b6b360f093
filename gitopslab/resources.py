"""Seed content shipped with gitopslab: compose/, gitops/, pipelines/, images/.

In a source checkout (or an editable install) they are the folders at the top of the repository,
where users expect them; in a wheel they travel as `gitopslab/_data/<name>` (hatchling force-include).
Everything reads them through `content_path`.
"""

from __future__ import annotations

from pathlib import Path

from gitopslab.errors import LabError

_PACKAGE = Path(__file__).resolve().parent
NAMES = ("compose", "gitops", "pipelines", "images")


def content_path(name: str) -> Path:
    if name not in NAMES:
        raise ValueError(f"unknown content folder {name!r}; one of {NAMES}")
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise LabError(f"the shipped {name}/ folder is missing from this installation ({_PACKAGE})",
                   hint="reinstall gitopslab (pip install --force-reinstall gitopslab) or run from a full checkout")
