"""`gitopslab load`: the schedule and statistics (unit), and the real command against a real HTTP
server in a container on the real engine (rate held within 10%, percentiles, stops on time, clear
errors for bad targets)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gitopslab.clients.loadgen import LoadPlan, percentiles
from gitopslab.clients.loopback import dial_target
from gitopslab.errors import UsageError
from tests.conftest import REPO

SERVER = Path(__file__).resolve().parents[1] / "fakes" / "predict_server.py"


def gitopslab(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- unit: schedule, statistics, targets --------------------------------------------------------

def test_steady_schedule_sends_rps_times_duration_evenly():
    times = LoadPlan(url="http://x.test/predict", rps=100, duration=5).send_times()
    assert len(times) == 500
    assert times[0] == 0 and abs(times[1] - 0.01) < 1e-9 and times[-1] < 5


def test_ramp_schedule_grows_linearly_to_the_peak():
    times = LoadPlan(url="http://x.test/predict", rps=100, duration=10, ramp=True).send_times()
    assert 495 <= len(times) <= 500  # rps * duration / 2
    first_half = sum(1 for t in times if t < 5)
    assert 120 <= first_half <= 130  # a quarter of the requests in the first half of a linear ramp
    assert all(a < b for a, b in zip(times, times[1:], strict=False))


def test_percentiles_are_nearest_rank_in_ms():
    p = percentiles([i / 1000 for i in range(1, 101)])
    assert (p["p50"], p["p90"], p["p99"], p["max"]) == (50.0, 90.0, 99.0, 100.0)
    assert percentiles([])["p99"] is None


def test_lab_names_are_dialled_at_loopback_keeping_the_host_header():
    assert dial_target("http://demo.localhost:8088/predict") == (
        "http://127.0.0.1:8088/predict", {"Host": "demo.localhost:8088"})
    assert dial_target("http://10.0.0.5:8080/predict") == ("http://10.0.0.5:8080/predict", {})


@pytest.mark.parametrize("kwargs, word", [({"rps": 0}, "--rps"), ({"duration": 7200}, "--duration"),
                                          ({"url": "ftp://x/predict"}, "--url")])
def test_bad_plans_are_refused(kwargs, word):
    plan = LoadPlan(**{"url": "http://x.test/predict", "rps": 10, "duration": 1, **kwargs})
    with pytest.raises(UsageError, match=word):
        plan.validate()


# ---- engine: a real server in a container ---------------------------------------------------------

@pytest.fixture(scope="module")
def predict_server(engine: str, base_image: str, tmp_path_factory: pytest.TempPathFactory):
    src = tmp_path_factory.mktemp("predict")
    (src / "server.py").write_text(SERVER.read_text())
    name = f"glt-predict-{os.getpid()}-{int(time.time() * 1000) % 100000}"
    run = subprocess.run(
        [engine, "run", "-d", "--name", name, "--label", "io.gitopslab.test=1", "-p", "127.0.0.1::8080",
         "-v", f"{src}:/srv:ro", base_image, "python3", "/srv/server.py"],
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    try:
        port = subprocess.run([engine, "port", name, "8080/tcp"], capture_output=True, text=True,
                              timeout=30, check=True).stdout.split(":")[-1].strip()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/count", timeout=1).raise_for_status()
                break
            except httpx.HTTPError as exc:
                if time.monotonic() > deadline:
                    logs = subprocess.run([engine, "logs", name], capture_output=True, text=True).stderr
                    pytest.fail(f"stand-in server {name} not answering at {base}: {exc}\n{logs}")
                time.sleep(0.2)
        yield base
    finally:
        subprocess.run([engine, "rm", "-f", name], capture_output=True, timeout=60)


def count(base: str) -> dict:
    return httpx.get(f"{base}/count", timeout=5).json()


@pytest.mark.engine
def test_load_holds_100_rps_for_5s_reports_percentiles_and_stops_on_time(predict_server):
    before = count(predict_server)["predict"]
    started = time.monotonic()
    out = gitopslab("load", "--rps", "100", "--duration", "5", "--url", f"{predict_server}/predict", "--json")
    wall = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert (doc["schema"], doc["version"]) == ("gitopslab/load", 1)
    r = doc["data"]
    assert 90 <= r["achieved_rps"] <= 110, r
    assert 90 <= r["sent_rps"] <= 110, r
    assert r["ok"] == r["responses"] == r["sent"] and r["errors"] == {} and r["dropped"] == 0
    lat = r["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert 5.0 <= r["elapsed_s"] < 6.0, r["elapsed_s"]
    assert wall < 10, f"the command ran {wall:.1f}s for a 5 s load"
    # The server saw them: every answered request plus the one probe.
    assert count(predict_server)["predict"] - before == r["responses"] + 1


@pytest.mark.engine
def test_live_progress_is_printed_while_it_runs_then_a_summary(predict_server):
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    proc = subprocess.Popen([sys.executable, "-m", "gitopslab", "load", "--rps", "40", "--duration", "3",
                             "--url", f"{predict_server}/predict"], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append((time.monotonic(), line.rstrip()))
    proc.wait(timeout=30)
    ended = time.monotonic()
    assert proc.returncode == 0
    progress = [(t, line) for t, line in lines if "rate" in line and "sent" in line and "p99" in line]
    assert len(progress) >= 2, lines
    assert ended - progress[0][0] > 1.0, "the first progress line came only at the end"
    text = "\n".join(line for _, line in lines)
    assert "load summary" in text and "p99" in text and "120 ok" in text


@pytest.mark.engine
def test_lab_hostname_reaches_the_server_with_its_host_header(predict_server):
    port = predict_server.rsplit(":", 1)[1]
    out = gitopslab("load", "--rps", "20", "--duration", "1", "--url", f"http://demo.localhost:{port}/predict", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["data"]["ok"] == 20
    assert count(predict_server)["hosts"].get(f"demo.localhost:{port}", 0) >= 21


@pytest.mark.engine
def test_non_2xx_target_is_a_clear_error(predict_server):
    out = gitopslab("load", "--rps", "10", "--duration", "1", "--url", f"{predict_server}/nope")
    assert out.returncode == 1
    assert "answered 404 Not Found" in out.stderr and "fix:" in out.stderr


def test_connection_refused_is_a_clear_error():
    port = free_port()
    started = time.monotonic()
    out = gitopslab("load", "--rps", "10", "--duration", "30", "--url", f"http://127.0.0.1:{port}/predict")
    assert out.returncode == 1
    assert "connection refused" in out.stderr and "fix:" in out.stderr
    assert time.monotonic() - started < 10, "a dead target must fail at once, not after --duration"


def test_unresolvable_name_is_a_clear_error():
    out = gitopslab("load", "--rps", "10", "--duration", "1", "--url", "http://no-such-host.invalid/predict")
    assert out.returncode == 1
    assert "does not resolve" in out.stderr and "no-such-host.invalid" in out.stderr


def test_default_target_is_hello_api_from_the_topology():
    """Without --url the target is hello-api's one URL; with nothing listening it says so."""
    out = gitopslab("load", "--rps", "5", "--duration", "1", "--name", f"t{os.getpid()}")
    assert out.returncode == 1
    assert "http://demo.localhost:8088/predict" in out.stderr
