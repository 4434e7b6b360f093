"""Seed 003 can only happen if the cluster lets it: app-dev's quota must hold the HPA's maxReplicas
(plus a rolling update's surge at that size), and a sync must not put back the replica count the HPA
owns. Computed from the rendered objects, not from numbers copied here."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

import yaml

from tests.conftest import REPO
from tests.support.observability import APP_OBS, by_kind, kustomize

GITOPS = REPO / "gitops"
_UNITS = {"": 1, "m": Fraction(1, 1000), "k": 10**3, "M": 10**6, "G": 10**9,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def quantity(value: str | int) -> Fraction:
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value))
    assert m and m.group(2) in _UNITS, value
    return Fraction(m.group(1)) * _UNITS[m.group(2)]


def _surge(deploy: dict[str, Any], replicas: int) -> int:
    """Extra pods a RollingUpdate may start (Kubernetes' default maxSurge is 25%, rounded up)."""
    surge = ((deploy["spec"].get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge", "25%")
    if isinstance(surge, str) and surge.endswith("%"):
        return math.ceil(replicas * int(surge[:-1]) / 100)
    return int(surge)


def test_app_dev_quota_holds_the_hpas_maximum_with_a_rollout_surge() -> None:
    hpa = by_kind(kustomize(APP_OBS), "HorizontalPodAutoscaler")
    app = kustomize(GITOPS / "clusters" / "app-dev")
    deploy = next(d for d in app if d["kind"] == "Deployment" and d["metadata"]["name"] == hpa["spec"]["scaleTargetRef"]["name"])
    quota = by_kind(kustomize(GITOPS / "clusters" / "app-dev" / "guardrails"), "ResourceQuota")["spec"]["hard"]
    assert deploy["metadata"]["namespace"] == hpa["metadata"]["namespace"] == "app-dev"

    pods = hpa["spec"]["maxReplicas"] + _surge(deploy, hpa["spec"]["maxReplicas"])
    containers = deploy["spec"]["template"]["spec"]["containers"]
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            per_pod = sum(quantity(c["resources"][kind][resource]) for c in containers)
            hard = quantity(quota[f"{kind}.{resource}"])
            assert pods * per_pod <= hard, (
                f"app-dev quota {kind}.{resource}={quota[f'{kind}.{resource}']} holds "
                f"{int(hard // per_pod)} hello-api pods; the HPA needs {pods}")


def test_a_sync_leaves_the_hpas_replica_count_alone() -> None:
    app = yaml.safe_load((GITOPS / "_main_apps" / "app-dev.yaml").read_text())
    ignored = [d for d in app["spec"]["ignoreDifferences"]
               if (d.get("group"), d["kind"], d.get("name")) == ("apps", "Deployment", "hello-api")]
    assert ignored and "/spec/replicas" in ignored[0]["jsonPointers"]
    # Without it ignoreDifferences only hides the diff; the next sync still applies replicas: 1.
    assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"].get("syncOptions", [])
