"""Real stand-in services for the delivery-flow tests, each a subprocess on 127.0.0.1 with a free port,
stopped by PID at the end: moto (the S3 API), an MLflow server (sqlite + proxied S3 artifacts), and
Debian's docker-registry. Every wait is bounded and its failure carries the service's log tail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

VENV_BIN = Path(sys.executable).parent
S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing-access", "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
           "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool(name: str) -> str:
    candidate = VENV_BIN / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


@dataclass
class Proc:
    name: str
    url: str
    proc: subprocess.Popen
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _wait_http(p: Proc, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if p.proc.poll() is not None:
            raise RuntimeError(f"{p.name} exited with {p.proc.returncode}; log:\n{p.log_tail()}")
        try:
            answer = httpx.get(p.url + path, timeout=2)
            if answer.status_code < 500:
                return
            last = f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.3)
    raise RuntimeError(f"{p.name} at {p.url}{path} not answering after {timeout:.0f}s (last: {last}); "
                       f"log:\n{p.log_tail()}")


@contextmanager
def running(name: str, argv: list[str], log: Path, url: str, health: str, timeout: float,
            env: dict[str, str] | None = None) -> Iterator[Proc]:
    with log.open("wb") as fh:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})}, start_new_session=True)
    p = Proc(name, url, proc, log)
    try:
        _wait_http(p, health, timeout)
        yield p
    finally:
        stop_group(proc, 10)


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """End a server started with start_new_session=True and its whole process group: SIGTERM, `grace`
    seconds, then SIGKILL. A group because MLflow's CLI forks uvicorn workers (and MLflow 3 its huey
    consumers) that outlive their parent; both waits are bounded, so a stuck server cannot hang a test."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@contextmanager
def moto_server(tmp: Path) -> Iterator[Proc]:
    port = free_port()
    with running("moto S3", [tool("moto_server"), "-H", "127.0.0.1", "-p", str(port)], tmp / "moto.log",
                 f"http://127.0.0.1:{port}", "/", 30) as p:
        yield p


@contextmanager
def mlflow_server(tmp: Path, s3_url: str) -> Iterator[Proc]:
    port = free_port()
    env = {**S3_KEYS, "MLFLOW_S3_ENDPOINT_URL": s3_url, "MLFLOW_SERVER_ALLOWED_HOSTS": "127.0.0.1:*,localhost:*"}
    # The artifact bucket must exist before the server proxies uploads into it.
    import boto3

    boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1", aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
                 aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"]).create_bucket(Bucket="mlflow")
    argv = [tool("mlflow"), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}", "--artifacts-destination", "s3://mlflow/artifacts"]
    with running("MLflow", argv, tmp / "mlflow.log", f"http://127.0.0.1:{port}", "/health", 120, env) as p:
        yield p


@contextmanager
def registry(tmp: Path) -> Iterator[Proc]:
    port = free_port()
    config = tmp / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: info}\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp / 'registry-data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    with running("docker-registry", ["/usr/bin/docker-registry", "serve", str(config)], tmp / "registry.log",
                 f"http://127.0.0.1:{port}", "/v2/", 30) as p:
        yield p


def model_artifact(estimator: object) -> bytes:
    """The bytes train.py writes for a model (joblib), as the S3 store holds them."""
    import io

    import joblib

    buf = io.BytesIO()
    joblib.dump(estimator, buf)
    return buf.getvalue()


def store_models(s3_url: str, objects: dict[str, bytes], bucket: str = "ml-models") -> None:
    """Put artifacts into the S3 API (moto) under `bucket`, creating it when missing."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1",
                          aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"])
    if bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
        client.create_bucket(Bucket=bucket)
    for key, body in objects.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)
