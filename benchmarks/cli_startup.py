"""How fast `gitopslab --help` answers, beside a bare `python -c pass`.
Targets: the console script's `gitopslab --help` at most 3x `python -c pass` (issue 23, item 7), and
every case's median <= 0.3 s.

    python benchmarks/cli_startup.py [--runs 15]

The console script (the `gitopslab` next to this Python, what a person runs) is timed where it is
installed; `python -m gitopslab` adds runpy's own cost and is shown beside it. Which modules `--help`
may not import is a test (tests/commands/test_cli_imports.py); the time is a figure, measured here.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

RATIO_TARGET = 3.0


def median_seconds(argv: list[str], runs: int) -> float:
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # warm the cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    script = Path(sys.executable).with_name("gitopslab")
    cases = {"gitopslab --help": [str(script), "--help"]} if script.is_file() else {}
    cases |= {
        "python -m gitopslab --help": [sys.executable, "-m", "gitopslab", "--help"],
        "gitopslab up --help": [sys.executable, "-m", "gitopslab", "up", "--help"],
        "gitopslab --version": [sys.executable, "-m", "gitopslab", "--version"],
    }
    baseline = median_seconds([sys.executable, "-c", "pass"], args.runs)
    print(f"{'command':<28} {'median':>9} {'x python':>9}   (runs={args.runs}, targets <= {RATIO_TARGET:.0f}x "
          f"and <= 0.300 s)")
    print(f"{'python -c pass':<28} {baseline:>8.3f}s {1:>8.1f}x")
    worst, ratio = 0.0, 0.0
    for name, argv in cases.items():
        median = median_seconds(argv, args.runs)
        worst = max(worst, median)
        if name == "gitopslab --help" or not script.is_file() and name == "python -m gitopslab --help":
            ratio = median / baseline
        print(f"{name:<28} {median:>8.3f}s {median / baseline:>8.1f}x")
    ok = worst <= 0.3 and ratio <= RATIO_TARGET
    print(f"verdict: {'within' if ok else 'OVER'} the targets (`--help` {ratio:.1f}x python; worst median "
          f"{worst:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
