"""benchmarks/serving.py's pure helpers: percentiles, the response head parser, /proc parsing, the Go
generator's output, and both open-loop generators' counting against a small local server (answers
counted, never timed)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import serving_load, serving_procs


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 1001)]
    assert [serving_load.percentile(values, p) for p in (50, 99, 99.9, 100)] == [500, 990, 999, 1000]
    assert serving_load.percentile([7.0], 99.9) == 7.0
    assert serving_load.percentile([], 50) is None
    with pytest.raises(ValueError, match="percentile 0"):
        serving_load.percentile(values, 0)


def test_summary_is_in_milliseconds_from_unsorted_seconds() -> None:
    seconds = [0.003, 0.001, 0.002] * 1000
    assert serving_load.summarize_ms(seconds) == {"p50": 2.0, "p99": 3.0, "p99.9": 3.0, "max": 3.0}
    assert serving_load.summarize_ms([]) == {"p50": None, "p99": None, "p99.9": None, "max": None}


def test_response_heads() -> None:
    assert serving_load.parse_head(b"HTTP/1.1 200 OK\r\nserver: uvicorn\r\nContent-Length: 42") == (200, 42)
    assert serving_load.parse_head(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length:7") == (503, 7)
    with pytest.raises(ValueError, match="chunked"):
        serving_load.parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked")
    with pytest.raises(ValueError, match="not an HTTP/1.x status line"):
        serving_load.parse_head(b"SSH-2.0-OpenSSH_9.2")


def test_request_bytes_carry_the_body_and_its_length() -> None:
    raw = serving_load.request_bytes("127.0.0.1:8080", "/predict", b'{"features":[1,2,3,4]}')
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n")
    assert b"Content-Length: 22" in head and body == b'{"features":[1,2,3,4]}'


def test_proc_stat_with_a_command_name_holding_spaces_and_parentheses() -> None:
    fields = ["S", "4242"] + ["0"] * 9 + [str(3 * serving_procs.TICKS), str(serving_procs.TICKS)] + ["0"] * 30
    assert serving_procs.parse_stat("17 (uvicorn) (worker 1)) " + " ".join(fields)) == (4242, 4.0)
    status = "Name:\tpython3\nVmHWM:\t  153600 kB\nVmRSS:\t  102400 kB\n"
    assert serving_procs.parse_status_kb(status, "VmHWM") == 153600
    assert serving_procs.parse_status_kb(status, "VmSwap") == 0


def test_usage_sums_the_process_tree() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in serving_procs.tree(os.getpid())
        usage = serving_procs.usage(os.getpid())
        assert usage.processes >= 2 and usage.peak_rss_mb >= usage.rss_mb > 0 and usage.cpu_seconds > 0
    finally:
        child.kill()
        child.wait()


async def _serve_and_load(answer: bytes, requests: int) -> tuple[serving_load.Result, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result, _, total = await serving_load.run(f"http://127.0.0.1:{port}/predict", [b"{}", b"[1]"],
                                                  rate=requests * 4, seconds=0.25, connections=4)
    return result, total


def test_the_generator_sends_every_request_and_counts_each_answer() -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    result, total = asyncio.run(_serve_and_load(ok, 40))
    assert total == 40 and result.ok == 40 and result.errors == {}
    assert len(result.latencies) == len(result.late) == 40


def test_the_generator_counts_error_statuses_by_code() -> None:
    busy = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"
    result, total = asyncio.run(_serve_and_load(busy, 20))
    assert result.ok == 0 and result.errors == {"http 503": 20}


def test_the_go_generators_output_becomes_the_same_result() -> None:
    text = ("loadgen 1 requests=5 rate=1500 seconds=0.00333 connections=2\n"
            "200 1500000 20000\n200 500000 0\n503 700000 1000\nE:ConnectionResetError - 3000\nU - 4000\n")
    result, total = serving_load.parse_loadgen(text)
    assert total == 5 and result.ok == 2
    assert result.latencies == [0.0015, 0.0005, 0.0007]  # every HTTP answer, from its due time
    assert result.late == [0.00002, 0.0, 0.000001, 0.000003, 0.000004]
    assert result.errors == {"http 503": 1, "ConnectionResetError": 1, "unfinished": 1}
    summary = serving_load.report(result, 0.0, total, 1500, 1.0, 2)
    assert summary["latency_ms"]["p50"] == 0.7 and summary["errors"] == 3 and summary["achieved_rps"] == 2.0


@pytest.mark.parametrize(("text", "says"), [
    ("", "not the output of benchmarks/loadgen"),
    ('{"rate_rps": 1500}\n', "not the output of benchmarks/loadgen"),
    ("loadgen 1 requests=3 rate=1 seconds=3 connections=1\n200 1 1\n", "promised 3 requests and reported 1"),
    ("loadgen 1 requests=1 rate=1 seconds=1 connections=1\nOK 1 1\n", "line 2 has an unknown outcome"),
    ("loadgen 1 requests=1 rate=1 seconds=1 connections=1\n200 1\n", "line 2 is not"),
])
def test_output_that_is_not_the_go_generators_is_refused_by_line(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        serving_load.parse_loadgen(text)


@pytest.fixture(scope="module")
def go_generator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return serving_load.build_go_generator(tmp_path_factory.mktemp("loadgen"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_go_generator_sends_every_request_to_the_go_null_server(go_generator: Path, tmp_path: Path) -> None:
    port = _free_port()
    null = subprocess.Popen([str(go_generator), "-serve-null", str(port)])
    try:
        bodies = tmp_path / "bodies.json"
        bodies.write_text(json.dumps([{"features": [5.1, 3.5, 1.4, 0.2]}, {"features": [6.7, 3.0, 5.2, 2.3]}]))
        for _ in range(100):  # until the null server listens (bounded: 100 tries, 5 s)
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        done = subprocess.run([str(go_generator), "-url", f"http://127.0.0.1:{port}/v1/models/iris:predict",
                               "-bodies", str(bodies), "-rate", "400", "-seconds", "0.1", "-connections", "4"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        result, total = serving_load.parse_loadgen(done.stdout)
        assert total == 40 and result.ok == 40 and result.errors == {} and len(result.latencies) == 40
    finally:
        null.kill()
        null.wait()


def test_the_go_generator_refuses_a_bad_url_by_name(go_generator: Path, tmp_path: Path) -> None:
    bodies = tmp_path / "bodies.json"
    bodies.write_text("[{}]")
    done = subprocess.run([str(go_generator), "-url", "https://127.0.0.1:1/x", "-bodies", str(bodies), "-rate", "1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and '-url "https://127.0.0.1:1/x": want http://HOST:PORT/PATH' in done.stderr
