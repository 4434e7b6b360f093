"""benchmarks/serving.py's pure helpers: percentiles, the response head parser, /proc parsing, and the
open-loop generator's counting against a small local server (answers counted, never timed)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

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
