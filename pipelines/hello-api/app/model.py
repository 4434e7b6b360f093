"""Loading the model: fetch MODEL_OBJECT from the S3 API, check its sha256 against MODEL_SHA, unpickle.

The bytes are verified BEFORE they are unpickled: a joblib file is code, and only the artifact the
GitOps repo pinned may run. Until a load succeeds the API stays not-ready and `reason` says why; a
background thread retries every MODEL_RETRY_SECONDS, so the pod turns ready once the object appears.
"""

from __future__ import annotations

import gc
import hashlib
import io
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("hello_api.model")

Fetch = Callable[[str, str], bytes]


@dataclass(frozen=True)
class Settings:
    model_object: str
    model_sha: str
    s3_endpoint_url: str
    model_version: str
    retry_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            model_object=env.get("MODEL_OBJECT", "").strip(),
            model_sha=env.get("MODEL_SHA", "").strip().lower(),
            s3_endpoint_url=env.get("S3_ENDPOINT_URL", "").strip(),
            model_version=env.get("MODEL_VERSION", "").strip(),
            retry_seconds=float(env.get("MODEL_RETRY_SECONDS", "10")),
        )


class ModelError(Exception):
    """Why the model cannot be served (the text /ready and the log show)."""


def parse_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ModelError(f"MODEL_OBJECT must be an s3://bucket/key URI, got {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket or not key:
        raise ModelError(f"MODEL_OBJECT must name a bucket and a key, got {uri!r}")
    return bucket, key


def s3_fetch(endpoint_url: str) -> Fetch:
    """A fetcher over boto3 (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2}),
    )

    def fetch(bucket: str, key: str) -> bytes:
        try:
            return client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except client.exceptions.NoSuchKey as exc:
            raise ModelError(f"object s3://{bucket}/{key} does not exist (not uploaded yet?)") from exc
        except Exception as exc:  # botocore raises many kinds; all mean "not loadable now"
            raise ModelError(f"cannot read s3://{bucket}/{key} from {endpoint_url or 'AWS'}: {exc}") from exc

    return fetch


@dataclass
class ModelHolder:
    """The loaded model and what /ready, /metrics and /predict report about it."""

    settings: Settings
    model: Any = None
    reason: str = "model not loaded yet"
    load_seconds: float | None = None
    attempts: int = 0
    import_seconds: float | None = None
    classes: list[str] = field(default_factory=list)
    n_features: int = 0
    # One row's probabilities, and how (app/predictor.py): "linear" or "predict_proba".
    predict_row: Callable[[list[float]], Any] | None = None
    predictor: str = ""

    @property
    def ready(self) -> bool:
        return self.model is not None

    @property
    def version(self) -> str:
        return self.settings.model_version or self.settings.model_object.rsplit("/", 1)[-1]

    def load_once(self, fetch: Fetch) -> bool:
        self.attempts += 1
        started = time.perf_counter()
        try:
            model = self._load(fetch)
        except ModelError as exc:
            self.reason = str(exc)
            log.warning("model not ready: %s", self.reason)
            return False
        self.load_seconds = time.perf_counter() - started
        self.classes = [str(c) for c in getattr(model, "classes_", [])]
        self.n_features = int(getattr(model, "n_features_in_", 0))
        from app.predictor import make_predictor

        try:
            self.predict_row, self.predictor = make_predictor(model, self.n_features)
        except Exception as exc:  # a model whose predict_proba fails on plain rows cannot serve /predict
            self.reason = f"{self.settings.model_object} loaded but cannot predict: {exc}"
            log.warning("model not ready: %s", self.reason)
            return False
        self.model, self.reason = model, "ready"
        # The model and the libraries live for the whole process: move them out of the GC's way, so a
        # full collection never walks them in the middle of a request.
        gc.collect()
        gc.freeze()
        log.info("model ready: %s sha256=%s in %.3f s (classes %s, predictor %s)", self.settings.model_object,
                 self.settings.model_sha, self.load_seconds, self.classes, self.predictor)
        return True

    def _load(self, fetch: Fetch) -> Any:
        s = self.settings
        if not s.model_object:
            raise ModelError("MODEL_OBJECT is not set")
        if len(s.model_sha) != 64 or any(c not in "0123456789abcdef" for c in s.model_sha):
            raise ModelError(f"MODEL_SHA must be a 64-character hex sha256, got {s.model_sha!r}")
        bucket, key = parse_s3_uri(s.model_object)
        data = fetch(bucket, key)
        actual = hashlib.sha256(data).hexdigest()
        if actual != s.model_sha:
            raise ModelError(
                f"sha256 mismatch for {s.model_object}: expected {s.model_sha}, got {actual}; "
                "refusing to load it (the object changed after it was pinned in the GitOps repo)"
            )
        import joblib

        try:
            return joblib.load(io.BytesIO(data))
        except Exception as exc:  # a verified but unreadable file: wrong library versions, truncated upload
            raise ModelError(f"{s.model_object} matches its sha256 but cannot be unpickled: {exc}") from exc

    def keep_loading(self, fetch_factory: Callable[[], Fetch], stop: threading.Event) -> None:
        """Retry until loaded or stopped; each attempt's failure is logged with its reason."""
        started = time.perf_counter()
        import joblib  # noqa: F401  (imported once, up front: not part of each load attempt)
        import sklearn.linear_model  # noqa: F401

        self.import_seconds = time.perf_counter() - started
        fetch: Fetch | None = None
        while not stop.is_set():
            try:
                fetch = fetch or fetch_factory()
            except Exception as exc:  # e.g. a malformed endpoint URL
                self.reason = f"cannot create the S3 client: {exc}"
                log.warning("model not ready: %s", self.reason)
            if fetch is not None and self.load_once(fetch):
                return
            stop.wait(self.settings.retry_seconds)
