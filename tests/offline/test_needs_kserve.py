"""Issue 27: `bundle save` with the kserve profile carries the images its pods run: the ones the tree's chart
values name (image + tag, read here as plain text), cert-manager's three at the chart's version; without
the profile none of them."""

from __future__ import annotations

import re

from gitopslab.context import Context
from gitopslab.lint import shipped_gitops_dir
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.offline.needs import lab_needs
from gitopslab.state import LabState


def _ctx(**settings: object) -> Context:
    cfg = load_config(None, environ={}, flags=dict(settings))
    return Context(cfg=cfg, topo=build(cfg), state=LabState(cfg.name))


def _values_images() -> set[str]:
    found = set()
    for name in ("values.yaml", "runtimes.yaml"):
        text = (shipped_gitops_dir() / "base/platform/kserve" / name).read_text()
        for image, tag in re.findall(r"^\s+image:\s*(\S+)\n\s+tag:\s*(\S+)", text, re.M):
            found.add(f"{image}:{tag}")
    return found


def test_the_kserve_profile_carries_its_images() -> None:
    wanted = _values_images() | {f"quay.io/jetstack/cert-manager-{c}:v1.17.0" for c in ("controller", "webhook",
                                                                                          "cainjector")}
    assert len(wanted) == 6
    assert wanted <= set(lab_needs(_ctx(kserve=True)).node)
    assert not wanted & set(lab_needs(_ctx()).images)
