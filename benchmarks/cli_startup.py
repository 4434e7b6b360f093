"""How fast `gitopslab --help` answers, beside a bare `python -c pass`. Target: median <= 0.3 s.

    python benchmarks/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def median_seconds(argv: list[str], runs: int) -> float:
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
    baseline = median_seconds([sys.executable, "-c", "pass"], args.runs)
    cases = {
        "gitopslab --help": [sys.executable, "-m", "gitopslab", "--help"],
        "gitopslab up --help": [sys.executable, "-m", "gitopslab", "up", "--help"],
        "gitopslab --version": [sys.executable, "-m", "gitopslab", "--version"],
    }
    print(f"{'command':<24} {'median':>9} {'over python':>12}   (runs={args.runs}, target <= 0.300 s)")
    print(f"{'python -c pass':<24} {baseline:>8.3f}s {'':>12}")
    worst = 0.0
    for name, argv in cases.items():
        median = median_seconds(argv, args.runs)
        worst = max(worst, median)
        print(f"{name:<24} {median:>8.3f}s {median - baseline:>+11.3f}s")
    print(f"verdict: {'within' if worst <= 0.3 else 'OVER'} the 0.3 s target (worst median {worst:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
