"""`gitopslab doctor`: checks grouped Host, Compose, Cluster, GitOps, Apps, Links, Pipeline, run
concurrently (runner.py) with a per-check timeout, skipping whatever stands on a failed check.

    run_doctor(ctx, only=None, timeout=3.0) -> Report
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitopslab.doctor.probe import DEFAULT_CHECK_TIMEOUT, Probe
from gitopslab.doctor.result import CheckResult
from gitopslab.doctor.runner import Check, run_checks_by_id, with_prerequisites

if TYPE_CHECKING:
    from gitopslab.context import Context

GROUPS = ("Host", "Compose", "Cluster", "GitOps", "Apps", "Links", "Pipeline")
# The multicluster profile's production cluster: a group after the first cluster's, only with the profile.
PRD_GROUP = "Cluster-prd"


def groups_for(topo: object) -> tuple[str, ...]:
    if not getattr(topo, "prd_cluster_name", ""):
        return GROUPS
    at = GROUPS.index("Cluster") + 1
    return (*GROUPS[:at], PRD_GROUP, *GROUPS[at:])


def all_checks(probe: Probe) -> list[Check]:
    from gitopslab.doctor import apps, cluster, cluster_prd, compose, gitops, host, links, pipeline, serving

    prd = cluster_prd.checks() if probe.topo.prd_cluster_name else []
    return [*host.checks(), *compose.checks(), *cluster.checks(), *prd, *gitops.checks(),
            *apps.checks(list(probe.topo.services)), *serving.checks(), *links.checks(probe.topo),
            *pipeline.checks()]


@dataclass(frozen=True)
class Report:
    lab: str
    groups: tuple[str, ...]
    results: tuple[CheckResult, ...]
    seconds: float

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def verdict(self) -> str:
        return "fail" if self.count("fail") else "warn" if self.count("warn") else "ok"

    @property
    def exit_code(self) -> int:
        return 1 if self.count("fail") else 0


def probe_for(ctx: Context, timeout: float = DEFAULT_CHECK_TIMEOUT) -> Probe:
    return Probe(ctx.cfg, ctx.topo, ctx.state, timeout)


def run_doctor(ctx: Context, only: list[str] | None = None, timeout: float = DEFAULT_CHECK_TIMEOUT) -> Report:
    """Run the checks of `only` (default: every group) plus what they stand on; report those groups."""
    t0 = time.monotonic()
    probe = probe_for(ctx, timeout)
    groups = tuple(g for g in groups_for(ctx.topo) if not only or g in only)
    checks = with_prerequisites(all_checks(probe), set(groups))
    by_id = run_checks_by_id(checks, probe, timeout)
    shown = [r for lines in by_id.values() for r in lines if r.group in groups]
    # A skip shown in the chosen groups may stand on a failure in another group: show that red line too.
    roots = {m.group(1) for r in shown if r.status == "skip" for m in [_CAUSE.match(r.detail)] if m}
    extra = [cid for cid in by_id if cid in roots and cid.split("/")[0] not in groups]
    if extra:
        groups = tuple(g for g in groups_for(ctx.topo) if g in groups or any(c.startswith(g + "/") for c in extra))
    results = [r for cid, lines in by_id.items() for r in lines
               if r.group in groups and (r.group not in {c.split("/")[0] for c in extra} or cid in extra)]
    return Report(ctx.cfg.name, groups, tuple(results), round(time.monotonic() - t0, 3))


_CAUSE = re.compile(r"skipped: (\S+) failed")
