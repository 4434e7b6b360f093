"""Seconds the delivery flow takes on the real forge tier (issue 28 item 4): a push to platform/hello-api
main runs the `deliver` pipeline on the real Woodpecker (server and agent built from the v3.17.0 archive)
against the real Gitea, registry, MinIO and trivy, with MLflow on the lab network (the lab that
tests/real/test_woodpecker_deliver.py brings up: `up`'s compose, seeding, delivery image and Woodpecker
steps, the CI image included).

Printed per run: the lab's setup (the CI image build is in it: once per lab, by `up`), each step's
seconds from the Woodpecker API's own start and finish times, and push -> GitOps pin commit (from the
end of `git push` to the moment platform/gitops main moves, polled every 0.25 s). Run 1 is cold (a new
lab: kaniko's layer cache empty), run 2 warm (the same lab, a second push).

Run: PYTHONPATH=$PWD .venv/bin/python benchmarks/forge_tier.py [--pushes 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gitopslab.stack.woodpecker_wire import wire_woodpecker  # noqa: E402
from tests.real.conftest import BUILD  # noqa: E402
from tests.real.test_woodpecker_deliver import (  # noqa: E402
    DELIVER_STEPS,
    _clone,
    _head,
    _push_member_change,
    _steps,
    _wait_pipeline,
    deliver_lab,
)


def _gitops_head(lab: Any) -> str:
    import httpx

    gitea = lab.ctx.topo.service("gitea")
    answer = httpx.get(f"http://127.0.0.1:{gitea.port}/api/v1/repos/platform/gitops/branches/main",
                       headers={"Host": gitea.address}, timeout=10,
                       auth=(lab.ctx.cfg.admin_user, lab.ctx.state.secret("gitea_admin_password")))
    answer.raise_for_status()
    return str(answer.json()["commit"]["id"])


def _one_push(lab: Any, repo_id: int, work: Path, limit: float = 900) -> dict[str, float]:
    before = _gitops_head(lab)
    commit = _push_member_change(lab, work)
    pushed = time.monotonic()
    while _gitops_head(lab) == before:
        if time.monotonic() - pushed > limit:
            raise SystemExit(f"no GitOps pin commit {limit:.0f} s after the push; see the pipeline in Woodpecker "
                             f"and `docker logs {lab.name}-woodpecker-agent`")
        time.sleep(0.25)
    to_pin = time.monotonic() - pushed
    pipeline = _wait_pipeline(lab, repo_id, lambda p: p["commit"] == commit and p["event"] == "push", "deliver")
    figures = {s["name"]: float(s["finished"] - s["started"]) for s in _steps(pipeline) if s.get("finished")}
    figures["push -> GitOps pin commit"] = to_pin
    figures["pipeline status is success"] = float(pipeline["status"] == "success")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pushes", type=int, default=2, help="pushes to one lab (the first is cold)")
    opts = parser.parse_args()
    subprocess.run([sys.executable, str(BUILD), "forge"], check=True)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} on "
          f"{os.cpu_count()} cores", flush=True)
    root = Path(tempfile.mkdtemp(prefix="gitopslab-bench-"))
    runs: list[dict[str, float]] = []
    try:
        started = time.monotonic()
        with deliver_lab(root) as lab:
            setup = time.monotonic() - started
            repo_id = wire_woodpecker(lab.ctx).repo_id
            for n in range(opts.pushes):
                work = root / f"push{n}"
                runs.append(_one_push(lab, repo_id, work))
                # the next push builds on this one's commit
                assert _head(_clone(lab, "hello-api", root / f"check{n}")) == _head(work)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"lab setup (compose, seed, CI image, Woodpecker): {setup:.1f} s")
    names = ["cold", *(f"warm {n}" for n in range(1, len(runs)))]
    print(f"{'step (s)':28}" + "".join(f"{n:>9}" for n in names))
    for key in [*DELIVER_STEPS, "push -> GitOps pin commit", "pipeline status is success"]:
        print(f"{key:28}" + "".join(f"{r.get(key, float('nan')):9.1f}" for r in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
