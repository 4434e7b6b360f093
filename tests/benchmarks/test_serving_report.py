"""benchmarks/serving_report.py: the rows, hello-api's ratios to MLflow and to KServe, and the goals, from
figures given here (pure: nothing is run or timed)."""

from __future__ import annotations

from benchmarks import serving_report


def _row(server: str, rate: float, p99: float, errors: int = 0, cpu_us: int = 200, rss: float = 150.0) -> dict:
    return {"server": server, "rate_rps": rate, "latency_ms": {"p50": p99 / 4, "p99": p99, "p99.9": p99 * 2, "max": p99 * 3},
            "late_ms": {"p50": 0.01, "p99": 0.05, "p99.9": 0.1, "max": 0.2}, "errors": errors,
            "error_kinds": {"unfinished": errors} if errors else {}, "achieved_rps": rate, "cpu_seconds": 1.0,
            "cpu_us_per_ok": cpu_us, "peak_rss_mb": rss, "load_average": "0.50 0.60 0.70"}


STARTUPS = [("hello-api", 3.0, "1 uvicorn process"), ("mlflow", 6.0, "1 worker"), ("kserve", 4.0, "1 worker")]


def test_kserve_gets_its_row_and_hello_apis_ratios_to_it() -> None:
    results = [_row("null-go", 1500, 0.5), _row("hello-api", 1500, 1.5), _row("mlflow", 1500, 4000.0, errors=3688, cpu_us=1000, rss=500.0),
               _row("kserve", 1500, 30.0, cpu_us=1200, rss=210.0)]
    lines, met = serving_report.report(STARTUPS, results, [1500.0], "benchmarks/loadgen (Go, compiled)")
    text = "\n".join(lines)
    assert "  kserve       4.00 s   workers: 1 worker" in text
    assert any(line.split()[:4] == ["1500", "kserve", "7.5", "30.0"] for line in lines)
    kserve = text[text.index("hello-api / kserve:"):]
    assert kserve.splitlines()[1] == ("  1500 rps: p50 0.05x, p99 0.05x, p99.9 0.05x, CPU per answer 0.17x, "
                                     "peak RSS 0.71x")
    assert kserve.splitlines()[2] == "  start-up 0.75x"
    assert "hello-api / mlflow:" in text and "errors: {'unfinished': 3688}" in text
    assert "load: benchmarks/loadgen (Go, compiled)" in text
    assert met  # 1.5 ms <= 2 ms, <= 0.5x MLflow's, no error


def test_the_goals_name_what_was_missed() -> None:
    results = [_row("hello-api", 500, 1.0), _row("hello-api", 1500, 3.4, errors=2), _row("mlflow", 1500, 5.0)]
    lines, met = serving_report.report(STARTUPS[:2], results, [500.0, 1500.0], "x")
    assert not met
    assert "  NOT met  hello-api p99 <= 2 ms at 1500 rps" in lines
    assert "  NOT met  hello-api p99 <= 0.5x MLflow's at 1500 rps" in lines
    assert "  NOT met  hello-api: zero errors at every rate" in lines


def test_without_mlflow_the_ratio_goal_is_not_claimed() -> None:
    results = [_row("hello-api", 1500, 1.9), _row("kserve", 1500, 20.0)]
    lines, met = serving_report.report([STARTUPS[0], STARTUPS[2]], results, [1500.0], "x")
    assert met and not any("MLflow's" in line for line in lines) and "hello-api / mlflow:" not in lines


def test_a_server_with_no_answer_prints_na_not_a_crash() -> None:
    silent = _row("kserve", 500, 0.0, cpu_us=0)
    silent["latency_ms"] = {"p50": None, "p99": None, "p99.9": None, "max": None}
    silent["cpu_us_per_ok"] = None
    lines, _ = serving_report.report(STARTUPS, [_row("hello-api", 500, 1.0), silent], [500.0], "x")
    assert "  500 rps: p50 n/a, p99 n/a, p99.9 n/a, CPU per answer n/a, peak RSS 1.00x" in lines
