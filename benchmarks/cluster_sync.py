"""Seconds from a GitOps commit to Argo CD having applied it, on the real cluster tier (a real control
plane with kwok nodes and the real Argo CD built from its module, tests/real/cluster_harness.py):

  with the webhook: commit, then Gitea's push hook (signed as Gitea signs it) posted to /api/webhook;
  without it:       commit, then nothing: Argo CD finds it on its own poll. In v3.6.1 that is the
                    controller's --app-resync (120 s) plus up to --app-resync-jitter (60 s), and the
                    repo-server answers from its revision cache (--revision-cache-expiration, 3 min)
                    until that expires: the lab sets neither, so these defaults are what a laptop gets.

"Applied" means the commit's MODEL_SHA is live in app-dev's ConfigMap and app-dev is Synced again.
Each run pins a new model with the pipeline's own update-gitops.sh (delivery.pin_in_tree).

Run: PYTHONPATH=$PWD python benchmarks/cluster_sync.py [--repeat 3] [--resync 120]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from gitopslab.stack import argocd_layer  # noqa: E402
from gitopslab.stack.argocd_wait import wait_synced  # noqa: E402
from gitopslab.stack.delivery import pin_in_tree  # noqa: E402
from tests.real.cluster_fixtures import (  # noqa: E402
    BUILD,
    bring_up_argocd,
    make_cluster_lab,
    real_gitops,
    start_cluster,
)
from tests.real.test_cluster_delivery import gitea_push, live_model_sha, new_pin  # noqa: E402


def once(lab, cluster, gitops, webhook: bool, limit: float) -> float:  # type: ignore[no-untyped-def]
    before = gitops.head()
    pin = new_pin()
    pin_in_tree(gitops.tree, pin)
    after = gitops.commit("benchmark pin")
    started = time.monotonic()
    if webhook:
        body, headers = gitea_push(lab, before, after, ["clusters/app-dev/model-configmap.yaml"])
        httpx.post(f"{cluster.argocd_url}/api/webhook", content=body, headers=headers, timeout=10).raise_for_status()
    while live_model_sha(lab) != pin.model_sha:
        if time.monotonic() - started > limit:
            raise SystemExit(f"the commit was not applied within {limit:.0f} s (webhook={webhook})")
        time.sleep(0.25)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--resync", type=int, default=120, help="the controller's --app-resync (default 120 s)")
    opts = parser.parse_args()
    for tier in ("forge", "cluster"):  # the real Gitea serves the GitOps repo; the cluster syncs from it
        if subprocess.run([sys.executable, str(BUILD), tier]).returncode != 0:
            return 1
    with tempfile.TemporaryDirectory(prefix="gitopslab-bench-") as tmp:
        root = Path(tmp)
        lab = make_cluster_lab(root / "lab")
        with real_gitops(lab, root / "gitops") as gitops:
            started = time.monotonic()
            cluster = start_cluster(lab, root / "cluster", app_resync=opts.resync)
            try:
                up = time.monotonic() - started
                layer = bring_up_argocd(lab, cluster, gitops.tree)
                wait_synced(layer, lambda: argocd_layer.client(layer), lab.ctx.state.secret("argocd_admin_password"))
                first = time.monotonic() - started
                hooked = [once(lab, cluster, gitops, True, 120) for _ in range(opts.repeat)]
                print(f"with webhook: {', '.join(f'{r:.1f}' for r in hooked)} s", flush=True)  # before the long part
                polled = [once(lab, cluster, gitops, False, opts.resync + 60 + 180 + 120) for _ in range(opts.repeat)]
            finally:
                cluster.close()
    print(f"control plane + kwok + Argo CD started: {up:.1f} s; every app Synced+Healthy: {first:.1f} s")
    for label, runs in (("commit -> applied, with webhook", hooked), ("commit -> applied, poll only", polled)):
        print(f"{label}: median {statistics.median(runs):.1f} s  runs {', '.join(f'{r:.1f}' for r in runs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
