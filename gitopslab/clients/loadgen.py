"""A bounded, open-loop HTTP load generator for hello-api's /predict (seed 003: "simulate an attack").

Open loop: request i is sent at its scheduled time whether or not earlier answers came back, so a slow
server sees the load pile up as a real flood would, instead of the generator politely slowing down.
Bounded: the run ends after `duration` seconds (plus at most `grace` for answers in flight, which are
then cancelled and counted as unfinished), and at most `max_in_flight` requests are outstanding; a
request that would exceed it is not sent and counted as `dropped` (the client, not the server, is
the limit then).

Lab names (`*.localhost`) are dialled at 127.0.0.1 with the original Host header, because they do not
resolve through getaddrinfo on every host (docs/ARCHITECTURE.md, split-horizon names).
"""

from __future__ import annotations

import asyncio
import errno
import json
import math
import socket
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from gitopslab.clients.loopback import dial_target
from gitopslab.errors import HTTPServiceError, UsageError

DEFAULT_BODY = {"features": [5.1, 3.5, 1.4, 0.2]}
PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class LoadPlan:
    url: str
    rps: float
    duration: float
    ramp: bool = False
    timeout: float = 5.0
    max_in_flight: int = 256
    body: Any = field(default_factory=lambda: DEFAULT_BODY)

    def validate(self) -> None:
        if not 0 < self.rps <= 5000:
            raise UsageError(f"--rps {self.rps:g} is out of range", hint="use 0 < --rps <= 5000")
        if not 0 < self.duration <= 3600:
            raise UsageError(f"--duration {self.duration:g} is out of range", hint="use 0 < --duration <= 3600 seconds")
        if urlsplit(self.url).scheme not in ("http", "https") or not urlsplit(self.url).hostname:
            raise UsageError(f"--url {self.url!r} is not an http(s) URL", hint="e.g. --url http://demo.localhost:8088/predict")

    def send_times(self) -> list[float]:
        """Offsets (seconds from start) at which requests are due. Steady: every 1/rps. Ramp: the rate
        grows linearly from 0 to rps over the duration (rps*duration/2 requests in all)."""
        if not self.ramp:
            return [i / self.rps for i in range(math.ceil(self.rps * self.duration - 1e-9))]
        total = int(self.rps * self.duration / 2)
        return [math.sqrt(2 * self.duration * (i + 1) / self.rps) for i in range(total)
                if math.sqrt(2 * self.duration * (i + 1) / self.rps) < self.duration]

    def rate_at(self, t: float) -> float:
        return self.rps * min(t / self.duration, 1.0) if self.ramp else self.rps


@dataclass(frozen=True)
class LoadReport:
    url: str
    target_rps: float
    ramp: bool
    duration_s: float
    elapsed_s: float
    sent: int
    responses: int
    ok: int
    errors: dict[str, int]
    dropped: int
    unfinished: int
    sent_rps: float
    achieved_rps: float
    latency_ms: dict[str, float | None]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Stats:
    sent: int = 0
    ok: int = 0
    responses: int = 0
    dropped: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    recent: deque[float] = field(default_factory=deque)  # completion times, for the live rate

    def rate_last_second(self, now: float) -> float:
        while self.recent and self.recent[0] < now - 1.0:
            self.recent.popleft()
        return float(len(self.recent))


def percentiles(samples: list[float]) -> dict[str, float | None]:
    """Nearest-rank percentiles in milliseconds (None when there are no samples)."""
    ordered = sorted(samples)
    out: dict[str, float | None] = {}
    for p in PERCENTILES:
        out[f"p{p}"] = round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000, 3) if ordered else None
    out["max"] = round(ordered[-1] * 1000, 3) if ordered else None
    out["mean"] = round(sum(ordered) / len(ordered) * 1000, 3) if ordered else None
    return out


def _chain(exc: BaseException) -> list[str]:
    """Messages of an exception and its causes: httpx says "All connection attempts failed" and keeps
    the OSError (refused, name not known) underneath."""
    seen: list[str] = []
    node: BaseException | None = exc
    while node is not None and len(seen) < 10:
        seen.append(f"{type(node).__name__}: {node}")
        if isinstance(node, socket.gaierror):
            seen.append("getaddrinfo")
        elif isinstance(node, OSError) and node.errno == errno.ECONNREFUSED:
            seen.append("refused")
        node = node.__cause__ or node.__context__
    return seen


def _describe(exc: httpx.HTTPError, url: str, timeout: float) -> tuple[str, str]:
    """A short reason for a failed request, and the longer message for a failed probe."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"{url} did not answer within {timeout:g}s"
    lowered = " ".join(_chain(exc)).lower()
    if "refused" in lowered:
        return "connection refused", f"{url}: connection refused (nothing listens on that port)"
    if any(s in lowered for s in ("name or service not known", "nodename nor servname", "getaddrinfo",
                                  "temporary failure in name resolution", "no address associated")):
        return "dns", f"{url}: the host name {urlsplit(url).hostname!r} does not resolve ({text})"
    return "connect" if isinstance(exc, httpx.ConnectError) else type(exc).__name__, f"{url}: {text}"


class LoadGenerator:
    def __init__(self, plan: LoadPlan, transport: httpx.AsyncBaseTransport | None = None) -> None:
        plan.validate()
        self.plan = plan
        self.dial_url, self.headers = dial_target(plan.url)
        self.headers["Content-Type"] = "application/json"
        self.payload = json.dumps(plan.body).encode()
        self.transport = transport
        self.stats = _Stats()
        self.in_flight = 0
        self.started = 0.0

    def _client(self) -> httpx.AsyncClient:
        n = self.plan.max_in_flight
        return httpx.AsyncClient(timeout=httpx.Timeout(self.plan.timeout),
                                 limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
                                 transport=self.transport, follow_redirects=False)

    async def probe(self, client: httpx.AsyncClient) -> None:
        """One request before the run, so a bad target fails at once with a clear reason."""
        try:
            resp = await client.post(self.dial_url, content=self.payload, headers=self.headers)
        except httpx.HTTPError as exc:
            _, message = _describe(exc, self.plan.url, self.plan.timeout)
            raise HTTPServiceError(message, hint=_hint(self.plan.url)) from exc
        if not 200 <= resp.status_code < 300:
            snippet = resp.text[:200].replace("\n", " ")
            raise HTTPServiceError(
                f"{self.plan.url} answered {resp.status_code} {resp.reason_phrase}: {snippet}",
                hint="check the URL and the request body (--body); " + _hint(self.plan.url))

    async def _one(self, client: httpx.AsyncClient) -> None:
        self.in_flight += 1
        t0 = time.perf_counter()
        try:
            resp = await client.post(self.dial_url, content=self.payload, headers=self.headers)
        except httpx.HTTPError as exc:
            self.stats.errors[_describe(exc, self.plan.url, self.plan.timeout)[0]] += 1
            return
        finally:
            self.in_flight -= 1
        now = time.perf_counter()
        self.stats.latencies.append(now - t0)
        self.stats.responses += 1
        self.stats.recent.append(now)
        if 200 <= resp.status_code < 300:
            self.stats.ok += 1
        else:
            self.stats.errors[f"http {resp.status_code}"] += 1

    async def run(self, on_tick: Callable[[dict[str, Any]], None] | None = None,
                  tick: float = 1.0, grace: float = 2.0) -> LoadReport:
        async with self._client() as client:
            await self.probe(client)
            self.started = time.perf_counter()
            ticker = asyncio.create_task(self._ticker(on_tick, tick)) if on_tick else None
            tasks: set[asyncio.Task[None]] = set()
            for offset in self.plan.send_times():
                delay = self.started + offset - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if self.in_flight >= self.plan.max_in_flight:
                    self.stats.dropped += 1
                    continue
                task = asyncio.create_task(self._one(client))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                self.stats.sent += 1
            rest = self.plan.duration - (time.perf_counter() - self.started)
            if rest > 0:  # the last request is due before the end of the window
                await asyncio.sleep(rest)
            unfinished = 0
            if tasks:
                _, pending = await asyncio.wait(set(tasks), timeout=min(grace, self.plan.timeout))
                unfinished = len(pending)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
            if ticker:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)
            return self._report(time.perf_counter() - self.started, unfinished)

    async def _ticker(self, on_tick: Callable[[dict[str, Any]], None], tick: float) -> None:
        while True:
            await asyncio.sleep(tick)
            on_tick(self.progress())

    def progress(self) -> dict[str, Any]:
        now = time.perf_counter()
        elapsed = now - self.started
        lat = percentiles(self.stats.latencies)
        return {"elapsed_s": round(elapsed, 1), "duration_s": self.plan.duration,
                "target_rps": round(self.plan.rate_at(elapsed), 1), "rate_rps": self.stats.rate_last_second(now),
                "sent": self.stats.sent, "ok": self.stats.ok, "errors": sum(self.stats.errors.values()),
                "in_flight": self.in_flight, "p50": lat["p50"], "p99": lat["p99"]}

    def _report(self, elapsed: float, unfinished: int) -> LoadReport:
        s = self.stats
        window = max(self.plan.duration, 1e-9)
        return LoadReport(
            url=self.plan.url, target_rps=self.plan.rps, ramp=self.plan.ramp, duration_s=self.plan.duration,
            elapsed_s=round(elapsed, 3), sent=s.sent, responses=s.responses, ok=s.ok,
            errors=dict(s.errors),
            dropped=s.dropped, unfinished=unfinished, sent_rps=round(s.sent / window, 2),
            achieved_rps=round(s.responses / window, 2), latency_ms=percentiles(s.latencies))


def _hint(url: str) -> str:
    return ("is hello-api deployed and ready? run `gitopslab status` or `gitopslab doctor`, "
            f"or point --url at a server that answers POST (tried {url})")


def run_load(plan: LoadPlan, on_tick: Callable[[dict[str, Any]], None] | None = None) -> LoadReport:
    return asyncio.run(LoadGenerator(plan).run(on_tick))
