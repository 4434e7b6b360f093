"""Wall time of `gitopslab doctor` (every group) in three scenarios, on this machine's real engine:

  1. nothing of the lab running                         bound: <= 2 s
  2. every service a healthy stand-in                   (HTTP stand-ins on the lab's ports, a stand-in
                                                          Kubernetes API for kubectl, labelled busybox
                                                          containers, a container answering every lab
                                                          name on the lab network)
  3. as 2, with one endpoint a black hole (accepts, never answers)   bound: <= check timeout + 1 s

Run: PYTHONPATH=$PWD python benchmarks/doctor.py [--timeout 3] [--repeat 3]
Needs the busybox image (scripts/build-busybox-image.sh). Prints the median and each run, and the red
lines of each scenario (Host lines reflect this machine: e.g. k3d absent, *.localhost not resolving).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "doctor")]

from standins import StandInLab  # noqa: E402

from gitopslab.context import Context  # noqa: E402
from gitopslab.doctor import run_doctor  # noqa: E402
from gitopslab.model.config import LabConfig  # noqa: E402
from gitopslab.model.topology import build  # noqa: E402
from gitopslab.state import LabState  # noqa: E402


def _measure(ctx: Context, timeout: float, repeat: int) -> tuple[list[float], list[str]]:
    times, red = [], []
    for _ in range(repeat):
        t0 = time.monotonic()
        report = run_doctor(ctx, timeout=timeout)
        times.append(time.monotonic() - t0)
        red = [f"{r.group}/{r.name}: {r.detail}" for r in report.results if r.status == "fail"]
    return times, red


def _print(title: str, bound: str, times: list[float], red: list[str]) -> None:
    runs = ", ".join(f"{t:.2f}" for t in times)
    print(f"{title:<34} median {statistics.median(times):5.2f} s  (runs: {runs})  {bound}")
    for line in red:
        print(f"    red: {line[:150]}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--image", default="gitopslab-busybox:latest")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        name = f"bench{uuid.uuid4().hex[:6]}"
        cfg = LabConfig.model_validate({"name": name})
        empty = Context(cfg=cfg, topo=build(cfg), state=LabState(name, root=Path(tmp) / "empty"))
        _print("1. nothing running", "(bound 2 s)", *_measure(empty, args.timeout, args.repeat))
        for title, hole in (("2. all stand-ins healthy", None), ("3. one black hole (hello-api)", "hello_api")):
            lab = StandInLab(f"bench{uuid.uuid4().hex[:6]}", Path(tmp) / title[:1], args.image, black_hole=hole)
            try:
                bound = f"(bound {args.timeout + 1:.0f} s)" if hole else ""
                _print(title, bound, *_measure(lab.context(), args.timeout, args.repeat))
            finally:
                lab.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
