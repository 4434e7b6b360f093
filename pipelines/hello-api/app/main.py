"""The HTTP API: /health, /ready, /predict, /metrics, /docs (+ /openapi.json). Starlette on uvicorn:
small, starts fast, and keeps /predict well under a millisecond of framework time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import Metrics
from app.model import Fetch, ModelHolder, Settings, s3_fetch
from app.openapi import DOCS_HTML, OPENAPI

log = logging.getLogger("hello_api")
ROUTES = {"/health", "/ready", "/predict", "/metrics", "/docs", "/openapi.json"}


# A /predict body is ~40 bytes; 64 KiB leaves room for clients that pretty-print and keeps a hostile
# body from costing memory (a 77 MB body once took 970 MB RSS under a 256 Mi limit).
MAX_BODY_BYTES = 64 * 1024


class Invalid(Exception):
    """A request body /predict cannot use; the text goes back with the 422."""


class Rejected(Exception):
    """A request refused before its body is parsed: the status (413, 415) and the text go back."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def require_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise Rejected(415, f"Content-Type must be application/json, got {media_type or 'none'!r}")


async def read_capped(request: Request) -> bytes:
    """The body, refused with 413 once it passes MAX_BODY_BYTES (declared or streamed)."""
    too_big = Rejected(413, f"body is larger than {MAX_BODY_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def parse_features(raw: bytes, n_features: int) -> list[float]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # ValueError includes ints past Python's digit limit; RecursionError is nesting too deep.
        raise Invalid(f"body is not valid JSON: {str(exc)[:200]}") from exc
    if not isinstance(body, dict) or "features" not in body:
        raise Invalid('body must be a JSON object like {"features": [5.1, 3.5, 1.4, 0.2]}')
    features = body["features"]
    if not isinstance(features, list):
        raise Invalid("'features' must be a list of numbers")
    if len(features) != n_features:
        raise Invalid(f"'features' must have {n_features} numbers, got {len(features)}")
    numbers = []
    for i, value in enumerate(features):
        number = _finite(value)
        if number is None:
            raise Invalid(f"'features'[{i}] must be a finite number, got {str(value)[:40]!r}")
        numbers.append(number)
    return numbers


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int larger than any float
        return None
    return number if math.isfinite(number) else None


class TimingMiddleware:
    """Counts and times every request (pure ASGI: no per-request task like BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = scope["path"] if scope["path"] in ROUTES else "other"
            self.metrics.observe(scope["method"], path, status, time.perf_counter() - started)


def _tune_sklearn() -> None:
    """parse_features already rejected NaN and infinities; skip sklearn's second check (per thread)."""
    import sklearn

    sklearn.set_config(assume_finite=True)


def create_app(settings: Settings | None = None, fetch_factory: Callable[[], Fetch] | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    holder = ModelHolder(settings)
    metrics = Metrics()
    tuned: list[bool] = []
    factory = fetch_factory or (lambda: s3_fetch(settings.s3_endpoint_url))

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        if holder.ready:
            return JSONResponse({"ready": True, "model_object": settings.model_object,
                                 "model_version": holder.version, "load_seconds": holder.load_seconds,
                                 "import_seconds": holder.import_seconds, "predictor": holder.predictor})
        return JSONResponse({"ready": False, "reason": holder.reason, "attempts": holder.attempts}, 503)

    async def predict(request: Request) -> Response:
        try:
            require_json(request)
            raw = await read_capped(request)
        except Rejected as exc:
            return JSONResponse({"detail": str(exc)}, exc.status)
        if not holder.ready:
            return JSONResponse({"detail": f"model not ready: {holder.reason}"}, 503)
        try:
            features = parse_features(raw, holder.n_features)
        except Invalid as exc:
            return JSONResponse({"detail": str(exc)}, 422)
        if not tuned:
            _tune_sklearn()
            tuned.append(True)
        probabilities = holder.predict_row(features)  # set whenever the holder is ready
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        label = holder.classes[best]
        metrics.predicted(label)
        return JSONResponse({
            "class": label,
            "probabilities": {c: round(float(p), 6) for c, p in zip(holder.classes, probabilities, strict=True)},
            "model_version": holder.version,
        })

    async def metrics_endpoint(request: Request) -> Response:
        info = {"version": holder.version, "object": settings.model_object, "sha256": settings.model_sha}
        return PlainTextResponse(metrics.render(info, holder.ready, holder.load_seconds),
                                 media_type="text/plain; version=0.0.4")

    async def docs(request: Request) -> Response:
        return HTMLResponse(DOCS_HTML)

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        stop = threading.Event()
        loader = threading.Thread(target=holder.keep_loading, args=(factory, stop), name="model-loader", daemon=True)
        loader.start()
        yield {}
        stop.set()

    app = Starlette(
        routes=[
            Route("/health", health), Route("/ready", ready), Route("/predict", predict, methods=["POST"]),
            Route("/metrics", metrics_endpoint), Route("/docs", docs), Route("/openapi.json", openapi),
        ],
        lifespan=lifespan,
    )
    app.state.holder = holder
    app.add_middleware(TimingMiddleware, metrics=metrics)
    return app
