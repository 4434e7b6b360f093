"""Issue 27: every value the lab gives KServe's charts is one the pinned release's charts read. A misspelt
key is silently ignored by helm (the controller would run in Knative mode, pull from docker.io with Always,
or keep all fifteen runtimes); here each leaf of values.yaml / runtimes.yaml must appear as `.Values.<path>`
(or, for a map handed over whole such as `resources`, its parent) in the chart's templates and files of the
kserve v0.20.0 source archive (sha256 checked)."""

from __future__ import annotations

import os
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitopslab.lint import shipped_gitops_dir
from gitopslab.model.versions import SOURCE_ARCHIVES
from tests.conftest import REPO, need

CACHE = Path(os.environ.get("GITOPSLAB_REAL_CACHE", Path.home() / ".cache" / "gitopslab-real"))
UPSTREAM = Path(os.environ.get("GITOPSLAB_UPSTREAM", REPO.parent / "shared" / "upstream"))


@pytest.fixture(scope="module")
def charts() -> Path:
    pin = SOURCE_ARCHIVES["kserve"]
    need((UPSTREAM / pin.file).is_file(), f"{UPSTREAM / pin.file} missing (clone with ../shared beside it)")
    archives = runpy.run_path(str(REPO / "scripts" / "real-stack" / "archives.py"))
    return Path(archives["extracted"](UPSTREAM / pin.file, pin.sha256, "SOURCE_ARCHIVES['kserve']", CACHE / "src")) / "charts"


def _leaves(node: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            yield from _leaves(value, path)
        else:
            yield path


def _read_by(chart: Path, common: Path) -> str:
    files = [f for d in (chart, common) for f in d.rglob("*") if f.is_file() and f.name != "values.yaml"]
    return "".join(f.read_text(errors="replace") for f in files)


@pytest.mark.parametrize(("chart", "values"), [("kserve-resources", "values.yaml"),
                                                ("kserve-runtime-configs", "runtimes.yaml")])
def test_every_value_is_read_by_the_chart(charts: Path, chart: str, values: str) -> None:
    text = _read_by(charts / chart, charts / "_common")
    given = yaml.safe_load((shipped_gitops_dir() / "base/platform/kserve" / values).read_text())
    assert _unread(given, text) == [], f"{chart} reads none of these values"


def test_a_misspelt_value_is_caught(charts: Path) -> None:
    text = _read_by(charts / "kserve-resources", charts / "_common")
    assert _unread({"kserve": {"controller": {"deploymentmode": "Standard"}}}, text) == [
        "kserve.controller.deploymentmode"]


def _unread(given: dict[str, Any], text: str) -> list[str]:
    """Leaves no template reads: neither the path itself nor, for `resources` maps, its handed-over parent."""
    unread = []
    for leaf in _leaves(given):
        parts = leaf.split(".")
        if not any(f".Values.{'.'.join(parts[:n])}" + suffix in text
                   for n in range(len(parts), max(len(parts) - 3, 2), -1) for suffix in ("\n", " ", "}", ")", ".")):
            unread.append(leaf)
    return unread
