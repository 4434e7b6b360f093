"""A wrk2-style open-loop load generator for benchmarks/serving.py, and its pure helpers.

    python benchmarks/serving_load.py --url http://127.0.0.1:8080/predict --rate 1500 --seconds 10 \
        --bodies bodies.json [--connections 64] [--discard]

Prints one JSON document, the summary (no per-request latencies). `--serve-null PORT` is instead a
server that does no work, to measure the floor of the machine and the generator.

Why not gitopslab/clients/loadgen.py: it is open-loop too, but it sends through httpx, whose own
cost (a few hundred microseconds of client CPU per request) is the same size as the 2 ms budget being
measured, and it times a request from when it was sent, so a late send hides the wait (coordinated
omission). Here request i is DUE at start + i/rate; its latency is counted from that moment, as wrk2
does, so a stalled server or a late generator both show up in the percentiles, and `late_ms` says
how late the generator itself was. Requests go over `connections` keep-alive HTTP/1.1 connections,
written and parsed by hand (status line, Content-Length): the client cost per request stays tens of
microseconds. Bodies come from a file so that every server gets the same rows in the same order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PERCENTILES = (50.0, 99.0, 99.9)


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values (None for no values): the smallest value with
    at least p% of the values at or below it, so p99.9 of 1000 values is the 999th, not the maximum."""
    if not ordered:
        return None
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} is not in (0, 100]")
    return ordered[max(0, math.ceil(p / 100 * len(ordered) - 1e-9) - 1)]


def summarize_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50, p99, p99.9 and max in milliseconds, rounded to the microsecond."""
    ordered = sorted(seconds)
    out: dict[str, float | None] = {}
    for p in (*PERCENTILES, 100.0):
        value = percentile(ordered, p)
        out["max" if p == 100.0 else f"p{p:g}"] = None if value is None else round(value * 1000, 3)
    return out


def parse_head(head: bytes) -> tuple[int, int]:
    """(status, content length) of an HTTP/1.1 response head (status line and headers, no blank line).
    A response without Content-Length (chunked) is refused: both servers measured here send one."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(parts[1]), int(value.strip())
    raise ValueError(f"response {int(parts[1])} has no Content-Length (chunked bodies are not supported)")


def request_bytes(host: str, path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)   # seconds from due time to the last byte
    late: list[float] = field(default_factory=list)        # seconds from due time to the hand-off: the
    # generator's own lateness (a wait for a free connection is the server's and is not in it)
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def _connection(host: str, port: int, queue: asyncio.Queue, result: Result | None, timeout: float,
                      stop_at: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            item = await queue.get()
            # Past the grace, what is still queued stays unsent (counted unfinished). A flag, not only
            # cancel(): Python 3.11's wait_for can swallow a cancellation that meets a finished read.
            if item is None or time.perf_counter() > stop_at[0]:
                return
            due, payload = item
            try:
                writer.write(payload)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
                status, length = parse_head(head[:-4])
                await asyncio.wait_for(reader.readexactly(length), timeout)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                    asyncio.TimeoutError) as exc:
                if result is not None:
                    result.error(type(exc).__name__)
                writer.close()  # the connection's state is unknown now: start a fresh one
                reader, writer = await asyncio.open_connection(host, port)
                continue
            if result is None:
                continue
            result.latencies.append(time.perf_counter() - due)
            if status == 200:
                result.ok += 1
            else:
                result.error(f"http {status}")
    finally:
        writer.close()


async def run(url: str, bodies: list[bytes], rate: float, seconds: float, connections: int,
              timeout: float = 2.0, record: bool = True, grace: float = 2.0) -> tuple[Result, float, int]:
    """Send rate*seconds requests on schedule, wait at most `grace` seconds after the last one is due
    for the answers (a request already written gets up to `timeout` more); returns (result, elapsed,
    requests due)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    payloads = [request_bytes(parts.netloc, parts.path or "/", b) for b in bodies]
    result = Result()
    queue: asyncio.Queue = asyncio.Queue()
    stop_at = [math.inf]
    workers = [asyncio.create_task(_connection(host, port, queue, result if record else None, timeout, stop_at))
               for _ in range(connections)]
    await asyncio.sleep(0.05)  # let the connections open before the clock starts
    total = int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        queue.put_nowait((due, payloads[i % len(payloads)]))
        result.late.append(time.perf_counter() - due)
    stop_at[0] = start + total / rate + grace
    for _ in workers:
        queue.put_nowait(None)
    _, pending = await asyncio.wait(workers, timeout=max(0.0, stop_at[0] - time.perf_counter()) + timeout + 1)
    for task in pending:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    done = result.ok + sum(result.errors.values())
    unfinished = total - done if record else 0
    if unfinished:  # cancelled after the grace: neither answered nor failed in time
        result.errors["unfinished"] = unfinished
    return result, time.perf_counter() - start, total


def report(result: Result, elapsed: float, total: int, rate: float, seconds: float, connections: int) -> dict:
    return {"rate_rps": rate, "seconds": seconds, "connections": connections, "requests": total,
            "ok": result.ok, "errors": sum(result.errors.values()), "error_kinds": result.errors,
            "achieved_rps": round(result.ok / seconds, 1),  # 200s per scheduled second
            "latency_ms": summarize_ms(result.latencies), "late_ms": summarize_ms(result.late)}


GO_SOURCE = Path(__file__).resolve().parent / "loadgen"


def build_go_generator(out_dir: Path) -> Path:
    """benchmarks/loadgen built into out_dir (standard library only: no module download), a static binary."""
    go = shutil.which("go") or ("/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go", os.X_OK) else None)
    if go is None:
        raise SystemExit("the Go load generator needs Go 1.22 or later (`go` is not on PATH nor in /usr/local/go/bin)\n"
                         "next: install Go, or run with --generator python (the asyncio one, a higher floor)")
    binary = out_dir / "loadgen"
    env = {**os.environ, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod -buildvcs=false"}
    done = subprocess.run([go, "build", "-trimpath", "-o", str(binary), "."], cwd=GO_SOURCE, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"go build in {GO_SOURCE} failed: {done.stderr[-2000:]}\n"
                         "next: fix the error above, or run with --generator python")
    return binary


def parse_loadgen(text: str) -> tuple[Result, int]:
    """(result, requests due) from the output of the Go generator (benchmarks/loadgen/main.go): a head
    line `loadgen 1 requests=N ...`, then one line per request in due order, `<outcome> <latency_ns>
    <late_ns>`; outcome an HTTP status, `E:<kind>` (a transport error) or `U` (no answer in time). The
    same Result the Python generator builds, so both are summarised by the same percentile code."""
    lines = text.splitlines()
    head = lines[0].split() if lines else []
    if len(head) < 3 or head[:2] != ["loadgen", "1"] or not head[2].startswith("requests="):
        raise ValueError(f"not the output of benchmarks/loadgen version 1: {(lines or [''])[0][:80]!r}")
    total = int(head[2].removeprefix("requests="))
    if len(lines) - 1 != total:
        raise ValueError(f"loadgen promised {total} requests and reported {len(lines) - 1} (output cut short?)")
    result = Result()
    for number, line in enumerate(lines[1:], 2):
        parts = line.split()
        if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
            raise ValueError(f"loadgen output line {number} is not `<outcome> <latency_ns> <late_ns>`: {line[:80]!r}")
        outcome, latency, late = parts
        result.late.append(int(late) / 1e9)
        if outcome == "U":
            result.error("unfinished")
        elif outcome.startswith("E:"):
            result.error(outcome[2:])
        elif outcome.isdigit() and latency.isdigit():
            result.latencies.append(int(latency) / 1e9)
            if outcome == "200":
                result.ok += 1
            else:
                result.error(f"http {outcome}")
        else:
            raise ValueError(f"loadgen output line {number} has an unknown outcome: {line[:80]!r}")
    return result, total


async def serve_null(port: int) -> None:
    """A server that does no work: every request gets `200 {}`. Measured like the real ones, it shows
    the floor that this machine, its load and this generator allow at that moment."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                _, length = parse_request_head((await reader.readuntil(b"\r\n\r\n"))[:-4])
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def parse_request_head(head: bytes) -> tuple[str, int]:
    """(request line, Content-Length) of a request head; 0 without a Content-Length."""
    lines = head.split(b"\r\n")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return lines[0].decode("latin-1"), int(value.strip())
    return lines[0].decode("latin-1"), 0


def _uvloop() -> None:
    try:
        import uvloop  # the C event loop: a smaller, steadier cost per request

        uvloop.install()
    except ImportError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve-null", type=int, metavar="PORT", help="be the null server on 127.0.0.1:PORT")
    parser.add_argument("--url")
    parser.add_argument("--bodies", help="a JSON file: a list of request bodies (objects)")
    parser.add_argument("--rate", type=float)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--discard", action="store_true", help="a warm-up: send, record nothing, print nothing")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args(argv)
    _uvloop()
    if args.serve_null:
        asyncio.run(serve_null(args.serve_null))
        return 0
    if not (args.url and args.bodies and args.rate):
        parser.error("--url, --bodies and --rate are needed (or --serve-null PORT)")
    with open(args.bodies, encoding="utf-8") as fh:
        bodies = [json.dumps(b, separators=(",", ":")).encode() for b in json.load(fh)]
    result, elapsed, total = asyncio.run(run(args.url, bodies, args.rate, args.seconds, args.connections,
                                             record=not args.discard))
    if args.discard:
        return 0
    json.dump(report(result, elapsed, total, args.rate, args.seconds, args.connections), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
