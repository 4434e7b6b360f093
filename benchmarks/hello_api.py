"""hello-api benchmark: /predict latency at a fixed request rate, and the model load time.

    PYTHONPATH=. python benchmarks/hello_api.py [--rate 200] [--seconds 15]

Starts a real S3 API (moto), trains the template's model and uploads it pinned by sha256, starts
hello-api (uvicorn, one process) against it, then sends POST /predict open-loop at --rate requests/s
over keep-alive connections and prints p50 / p99 / max latency, achieved throughput, errors, and the
model load time hello-api measured (fetch + sha256 check + unpickle) plus start-to-ready time.
Targets on the project machine: p99 <= 10 ms at 200 requests/s, model load <= 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "pipelines" / "hello-api"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(TEMPLATE))

import train  # noqa: E402

from tests.support import services  # noqa: E402

BODY = json.dumps({"features": [6.0, 2.7, 5.1, 1.6]}).encode()


async def _one(pool: asyncio.Queue, port: int) -> tuple[float, int]:
    reader, writer = await pool.get()
    try:
        started = time.perf_counter()
        writer.write(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (port, len(BODY), BODY))
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        return time.perf_counter() - started, status
    finally:
        pool.put_nowait((reader, writer))


async def load(port: int, rate: float, seconds: float, connections: int = 16) -> tuple[list[float], int, float]:
    """Open loop: request i is sent at start + i/rate whether or not earlier ones have answered."""
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    total = int(rate * seconds)
    start = time.perf_counter()
    tasks = []
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_one(pool, port)))
    results = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait()[1].close()
    return [r[0] for r in results if r[1] == 200], sum(1 for r in results if r[1] != 200), elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=2)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="hello-bench-"))
    with services.moto_server(tmp) as s3:
        model, _ = train.train(c=1.0, max_iter=200, seed=42)
        artifact = services.model_artifact(model)
        services.store_models(s3.url, {"iris-bench.joblib": artifact})
        port = services.free_port()
        env = {**os.environ, **services.S3_KEYS, "PORT": str(port), "HOST": "127.0.0.1", "S3_ENDPOINT_URL": s3.url,
               "MODEL_OBJECT": "s3://ml-models/iris-bench.joblib",
               "MODEL_SHA": hashlib.sha256(artifact).hexdigest(), "MODEL_RETRY_SECONDS": "1"}
        started = time.perf_counter()
        log = (tmp / "hello-api.log").open("wb")
        api = subprocess.Popen([sys.executable, "-m", "app"], cwd=TEMPLATE, env=env, stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            ready = None
            while time.perf_counter() - started < 30:
                try:
                    answer = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1)
                    if answer.status_code == 200:
                        ready = answer.json()
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
            if ready is None:
                print(f"hello-api not ready in 30 s; log: {(tmp / 'hello-api.log').read_text()[-2000:]}")
                return 1
            start_to_ready = time.perf_counter() - started
            asyncio.run(load(port, args.rate, args.warmup))
            latencies, errors, elapsed = asyncio.run(load(port, args.rate, args.seconds))
        finally:
            api.terminate()
            api.wait(10)
    ms = [v * 1000 for v in latencies]
    report = {
        "rate_target_rps": args.rate,
        "requests": len(latencies) + errors,
        "errors": errors,
        "throughput_rps": round((len(latencies) + errors) / elapsed, 1),
        "p50_ms": round(pct(ms, 0.50), 2),
        "p99_ms": round(pct(ms, 0.99), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "model_load_s": round(ready["load_seconds"], 3),
        "library_import_s": round(ready["import_seconds"], 3),
        "start_to_ready_s": round(start_to_ready, 3),
    }
    for key, value in report.items():
        print(f"{key:>18}: {value}")
    ok = report["p99_ms"] <= 10 and report["model_load_s"] <= 1 and errors == 0
    print(f"{'targets':>18}: {'met' if ok else 'NOT met'} (p99 <= 10 ms at {args.rate:.0f}/s, model load <= 1 s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
