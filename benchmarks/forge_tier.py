"""Seconds each part of the delivery flow takes on the real forge tier (Gitea and the registry built
from their Go modules, scripts/real-stack/build.py), on this machine's engine:

  compose core up (Gitea + registry healthy) -> gitea.seed (first run) -> gitea.seed (second run, no
  change) -> update-gitops step (clone, pin, push through branch protection) -> scan step (real trivy,
  SCAN_OFFLINE=1) -> git push to the GitOps repo's commit, summed over the steps that can run here.

Woodpecker cannot be built here (docs/REAL_STACK.md), so "push to GitOps commit" is the sum of the
steps this tier runs, without the clone, train, upload and build steps nor Woodpecker's scheduling.

Run: PYTHONPATH=$PWD python benchmarks/forge_tier.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gitopslab.render.pipelines import render_template  # noqa: E402
from gitopslab.stack import compose_layer  # noqa: E402
from gitopslab.stack.gitea.seed import seed_gitea, whales_exec  # noqa: E402
from tests.real.conftest import BUILD, ForgeLab, make_forge_lab  # noqa: E402
from tests.real.test_pipeline_steps import _run_step  # noqa: E402
from tests.support.compose_lab import force_cleanup  # noqa: E402


def timed(fn: Callable[[], object]) -> float:
    started = time.monotonic()
    fn()
    return time.monotonic() - started


def one_run(root: Path) -> dict[str, float]:
    from python_on_whales import DockerClient

    lab: ForgeLab = make_forge_lab(root)
    seed = lambda: seed_gitea(lab.ctx, whales_exec(DockerClient(), f"{lab.name}-gitea"))  # noqa: E731
    figures: dict[str, float] = {}
    try:
        figures["compose core up"] = timed(lab.compose_up)
        figures["gitea.seed, first run"] = timed(seed)
        figures["gitea.seed, second run"] = timed(seed)
        workspace = render_template(lab.ctx.cfg, lab.ctx.topo, root / "src")
        (workspace / "dist").mkdir()
        (workspace / "dist" / "release.env").write_text(f"MODEL_OBJECT=s3://m/iris-b.joblib\nMODEL_SHA={'c' * 64}\n")
        (workspace / ".tags").write_text("bench01\n")
        workspace.chmod(0o777)
        registry = lab.ctx.topo.service("registry")
        pushed = f"127.0.0.1:{registry.port}/hello-api:bench01"
        subprocess.run(["docker", "tag", "gitopslab-base:bookworm", pushed], check=True)
        subprocess.run(["docker", "push", pushed], check=True, capture_output=True)
        sha = {"CI_COMMIT_SHA": "bench01" + "0" * 33}
        figures["update-gitops step"] = timed(lambda: _run_step(lab, workspace, "deliver", "update-gitops", sha))
        figures["scan step (SCAN_OFFLINE=1)"] = timed(
            lambda: _run_step(lab, workspace, "deliver", "scan", {**sha, "SCAN_OFFLINE": "1"}))
    finally:
        compose_layer.destroy(lab.ctx)
        force_cleanup(lab.name)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    subprocess.run([sys.executable, str(BUILD), "forge"], check=True)
    runs = []
    for _ in range(opts.repeat):
        root = Path(tempfile.mkdtemp(prefix="gitopslab-bench-"))
        try:
            runs.append(one_run(root))
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{'measure':34} {'median s':>9}  runs")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"{key:34} {statistics.median(values):9.2f}  {', '.join(f'{v:.2f}' for v in values)}")
    steps = [sum(r[k] for k in ("update-gitops step", "scan step (SCAN_OFFLINE=1)")) for r in runs]
    print(f"{'steps run here, push to commit':34} {statistics.median(steps):9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
