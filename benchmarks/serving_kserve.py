"""KServe's sklearn model server for benchmarks/serving.py (issue 27): the `kserve` package from PyPI at
the release the lab pins and the release's python/sklearnserver, prepared as tests/real/kserve_server.py
prepares them (one cache), run in the lab's pinned `python` image with the InferenceService's env from
gitops/base/ml/kserve-iris (PREDICT_PROBA), as its predictor container runs.

kserve 0.20.0 binds its HTTP server to 0.0.0.0 (kserve/protocol/rest/server.py) and its gRPC server to
[::] (protocol/grpc/server.py), with no option to change either. The benchmark runs every server on the
host's network so that all share one loopback path, and every port binds 127.0.0.1 only: so the server
starts through BIND_LOOPBACK, which changes those two addresses and nothing else, then runs the
sklearnserver module as `python -m sklearnserver` would."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.real import kserve_server

REPO = Path(__file__).resolve().parents[1]
MODEL_NAME = "iris"
ISVC = REPO / "gitops" / "base" / "ml" / "kserve-iris" / "inferenceservice.yaml"

BIND_LOOPBACK = """\
import runpy, sys
import uvicorn
from grpc.aio import _server

_config = uvicorn.Config.__init__
def _loopback_config(self, *args, **kwargs):
    kwargs["host"] = "127.0.0.1"
    _config(self, *args, **kwargs)
uvicorn.Config.__init__ = _loopback_config
_add = _server.Server.add_insecure_port
_server.Server.add_insecure_port = lambda self, address: _add(self, address.replace("[::]:", "127.0.0.1:"))
sys.argv[0] = "sklearnserver"
runpy.run_module("sklearnserver", run_name="__main__", alter_sys=True)
"""


def deps(engine: str) -> Path:
    """kserve, kserve-storage, the pipeline's scikit-learn and joblib for the image's Python (cached)."""
    return kserve_server.serving_deps(engine)


def source() -> Path:
    """python/sklearnserver of the pinned release's source archive (extracted once, sha256 checked)."""
    return kserve_server.sklearnserver_source()


def predictor_env() -> dict[str, str]:
    """The env the lab's InferenceService gives its predictor."""
    isvc = yaml.safe_load(ISVC.read_text())
    return {e["name"]: str(e["value"]) for e in isvc["spec"]["predictor"]["model"].get("env", [])}


def storage_argv(deps_dir: Path, models: Path, env_file: Path, s3_url: str, uri: str) -> list[str]:
    """The storage initializer (kserve-storage, as KServe's init container runs it), with the S3 settings
    KServe's controller derives from the lab's kserve-s3 Secret; the keys come from env_file."""
    endpoint = s3_url.split("://", 1)[1]
    return ["docker", "run", "--rm", "--network", "host", "--label", "io.gitopslab.bench=serving",
            "--env-file", str(env_file), "-e", "PYTHONPATH=/deps", "-e", f"S3_ENDPOINT={endpoint}",
            "-e", f"AWS_ENDPOINT_URL={s3_url}", "-e", "S3_USE_HTTPS=0", "-e", "S3_VERIFY_SSL=0",
            "-v", f"{deps_dir}:/deps:ro", "-v", f"{models}:/mnt/models", "--entrypoint", "python3",
            kserve_server.PYTHON_IMAGE, "-c",
            f"from kserve_storage import Storage; Storage.download({uri!r}, '/mnt/models')"]


def server_argv(name: str, deps_dir: Path, source_dir: Path, models: Path, port: int, grpc_port: int,
                pin: list[str]) -> list[str]:
    """The sklearn server on 127.0.0.1:port (HTTP) and :grpc_port, with kserve's defaults otherwise (one
    worker, gRPC on, a latency log line per request), as the InferenceService's predictor runs it."""
    env = [a for k, v in predictor_env().items() for a in ("-e", f"{k}={v}")]
    return ["docker", "run", "-d", "--name", name, "--network", "host", "--label", "io.gitopslab.bench=serving",
            *pin, "-v", f"{deps_dir}:/deps:ro", "-v", f"{source_dir}:/srv:ro", "-v", f"{models}:/mnt/models:ro",
            "-e", "PYTHONPATH=/srv:/deps", *env, "--entrypoint", "python3", kserve_server.PYTHON_IMAGE,
            "-c", BIND_LOOPBACK, "--model_dir", "/mnt/models", "--model_name", MODEL_NAME,
            "--http_port", str(port), "--grpc_port", str(grpc_port)]
