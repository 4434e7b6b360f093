"""benchmarks/serving.py's report: the start-up lines, one row per rate and server, hello-api's ratios
to each other server (MLflow's `mlflow models serve`, KServe's sklearn server) and the goals of issue 26.
Pure: figures in, lines and whether the goals were met out."""

from __future__ import annotations

GOAL_P99_MS = 2.0
GOAL_RATIO = 0.5
OURS = "hello-api"
OTHERS = ("mlflow", "kserve")
NULLS = ("null", "null-go")


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "n/a"


def report(startups: list[tuple[str, float, str]], results: list[dict], rates: list[float],
           generator: str) -> tuple[list[str], bool]:
    """startups: (server, seconds, workers) of each server that was started; results: one dict per rate
    and server as benchmarks/serving.py's measure() returns it."""
    lines = ["", "start-up (seconds from start to the first 200 on the predict route, model fetch included):"]
    lines += [f"  {name:<10} {seconds:6.2f} s   workers: {workers}" for name, seconds, workers in startups]
    head = (f"{'rate':>6} {'server':<10} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8} {'errors':>6} "
            f"{'ok rps':>7} {'CPU s':>6} {'CPU us/ok':>9} {'peak RSS MB':>11} {'gen late p99':>12} {'load avg':>15}")
    lines += ["", head, "-" * len(head)]
    for r in results:
        lat, late = r["latency_ms"], r["late_ms"]
        lines.append(f"{r['rate_rps']:>6g} {r['server']:<10} {lat['p50']!s:>8} {lat['p99']!s:>8} {lat['p99.9']!s:>9} "
                     f"{lat['max']!s:>8} {r['errors']:>6} {r['achieved_rps']:>7} {r['cpu_seconds']:>6} "
                     f"{r['cpu_us_per_ok']!s:>9} {r['peak_rss_mb']:>11} {late['p99']!s:>12} {r['load_average']:>15}")
        if r["error_kinds"]:
            lines.append(f"{'':>17} errors: {r['error_kinds']}")
    lines += [f"(load: {generator}. Percentiles over the answered requests, from each one's due time;",
              " `unfinished`: no answer within 2 s after the window. null (Python asyncio) and null-go: servers",
              " that do no work, measured the same way: the floor this machine, its load and the generator allow",
              " now. `gen late p99`: how late the generator itself sent)"]
    by = {(r["rate_rps"], r["server"]): r for r in results}
    started = {name: seconds for name, seconds, _ in startups}
    for other in OTHERS:
        pairs = [(rate, by[(rate, OURS)], by[(rate, other)]) for rate in rates
                 if (rate, OURS) in by and (rate, other) in by]
        if not pairs:
            continue
        lines += ["", f"{OURS} / {other}:"]
        for rate, h, o in pairs:
            lines.append(f"  {rate:g} rps: p50 {ratio(h['latency_ms']['p50'], o['latency_ms']['p50'])}, "
                         f"p99 {ratio(h['latency_ms']['p99'], o['latency_ms']['p99'])}, "
                         f"p99.9 {ratio(h['latency_ms']['p99.9'], o['latency_ms']['p99.9'])}, "
                         f"CPU per answer {ratio(h['cpu_us_per_ok'], o['cpu_us_per_ok'])}, "
                         f"peak RSS {ratio(h['peak_rss_mb'], o['peak_rss_mb'])}")
        lines.append(f"  start-up {ratio(started.get(OURS), started.get(other))}")
    more, met = goals(by, rates)
    return lines + more, met


def goals(by: dict[tuple[float, str], dict], rates: list[float]) -> tuple[list[str], bool]:
    top = max(rates)
    h, m = by.get((top, OURS)), by.get((top, "mlflow"))
    if not h:
        return [], True
    p99 = h["latency_ms"]["p99"]
    checks = [(f"hello-api p99 <= {GOAL_P99_MS:g} ms at {top:g} rps", p99 is not None and p99 <= GOAL_P99_MS),
              ("hello-api: zero errors at every rate",
               all(by[(r, OURS)]["errors"] == 0 for r in rates if (r, OURS) in by))]
    if m:
        mp99 = m["latency_ms"]["p99"]
        checks.insert(1, (f"hello-api p99 <= {GOAL_RATIO:g}x MLflow's at {top:g} rps",
                          p99 is not None and mp99 is not None and p99 <= GOAL_RATIO * mp99))
    lines = ["", "goals:"] + [f"  {'met    ' if ok else 'NOT met'}  {text}" for text, ok in checks]
    return lines, all(ok for _, ok in checks)
