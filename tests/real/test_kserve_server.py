"""Issue 27: KServe's model server for real. The pipeline's model (train.py's own functions, the pinned
scikit-learn) is put into a real S3 API (moto, in a container on a lab network, under the name the lab's kserve-s3 Secret gives);
the storage initializer (`kserve-storage` 0.20.0 from PyPI) downloads it with the environment KServe's
controller gives it from the lab's kserve-s3 Secret (pkg/credentials/s3: S3_ENDPOINT, AWS_ENDPOINT_URL,
S3_USE_HTTPS, ...; the serving user's login through a 0600 env file, never argv); the release's
sklearnserver on the `kserve` 0.20.0 package serves it in a container on the network as
models.localhost, answering the v1 and v2 prediction protocols with the model's own predictions."""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from gitopslab.lint import shipped_gitops_dir
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.stack import app_secrets
from tests.conftest import REPO
from tests.real import kserve_server as ks
from tests.support.compose_lab import free_subnet

pytestmark = pytest.mark.engine

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
KEY = "gitopslab-kserve"  # the serving consumer's read-only user (stack/s3_users.py)


@dataclass
class Served:
    url: str
    expected: list[list[float]]  # the model's own predict_proba rows (the InferenceService sets PREDICT_PROBA)
    network: str
    model_file: Path
    sha256: str


def _docker(engine: str, *args: str, timeout: int = 300) -> str:
    done = subprocess.run([engine, *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{engine} {' '.join(args[:3])} ...: {done.stderr[-2000:]}"
    return done.stdout.strip()


def _published(engine: str, container: str, port: int) -> str:
    return _docker(engine, "port", container, f"{port}/tcp").splitlines()[0]


def _wait(url: str, what: str, engine: str, container: str, seconds: float = 120) -> None:
    deadline, last = time.monotonic() + seconds, "no answer yet"
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(url, timeout=5)
            if answer.status_code == 200:
                return
            last = f"HTTP {answer.status_code} {answer.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(1)
    logs = subprocess.run([engine, "logs", "--tail", "40", container], capture_output=True, text=True).stdout
    raise AssertionError(f"{what} ({url}) not ready in {seconds:.0f} s; last: {last}; `docker logs {container}`:\n{logs}")


@pytest.fixture(scope="module")
def served(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    deps, moto, source = ks.serving_deps(engine), ks.moto_deps(engine), ks.sklearnserver_source()
    tmp = tmp_path_factory.mktemp("kserve")
    name = f"glk{uuid.uuid4().hex[:8]}"
    topo = build(LabConfig(name=name, network={"subnet": free_subnet(name)}))
    # The store as the lab's kserve-s3 Secret names it for KServe (the in-cluster name hello-api uses too).
    secret = next(o for o in app_secrets.objects(LabConfig(kserve=True), None) if o["metadata"]["name"] == "kserve-s3")
    endpoint = secret["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"]
    s3_name, s3_port = endpoint.rsplit(":", 1)
    containers = [f"{name}-s3", f"{name}-iris"]
    _docker(engine, "network", "create", "--subnet", topo.subnet, "--ip-range", topo.dynamic_range,
            "--label", f"io.gitopslab.lab={name}", topo.network)
    try:
        _docker(engine, "run", "-d", "--name", containers[0], "--network", topo.network, "--network-alias",
                s3_name, "-p", f"127.0.0.1::{s3_port}", "-v", f"{moto}:/deps:ro", "-e", "PYTHONPATH=/deps",
                # moto reads a dotted Host as <bucket>.<endpoint> (virtual-host style); MinIO does not.
                "-e", "S3_IGNORE_SUBDOMAIN_BUCKETNAME=true", "--entrypoint", "python3", ks.PYTHON_IMAGE, "-m", "moto.server", "-H", "0.0.0.0", "-p", s3_port)
        s3_host = f"http://{_published(engine, containers[0], int(s3_port))}"
        _wait(f"{s3_host}/", "moto S3", engine, containers[0])
        # The pipeline's model: train.py's train() and write_artifact(), the file the upload step puts.
        train = runpy.run_path(str(REPO / "pipelines" / "hello-api" / "train.py"))
        model, _ = train["train"](1.0, 200, 42)
        sha = train["write_artifact"](model, tmp / "dist")
        artifact = tmp / "dist" / "model.joblib"
        import boto3

        client = boto3.client("s3", endpoint_url=s3_host, region_name="us-east-1", aws_access_key_id=KEY,
                              aws_secret_access_key="x" * 32)
        client.create_bucket(Bucket="ml-models")
        key = f"iris-{sha[:12]}.joblib"
        client.put_object(Bucket="ml-models", Key=key, Body=artifact.read_bytes())
        # The storage initializer, with the env KServe's controller builds from the kserve-s3 Secret.
        models = tmp / "mnt-models"
        models.mkdir()
        env_file = tmp / "s3.env"
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"AWS_ACCESS_KEY_ID={KEY}\nAWS_SECRET_ACCESS_KEY={'x' * 32}\n")
        _docker(engine, "run", "--rm", "--network", topo.network, "--env-file", str(env_file), "-e", "PYTHONPATH=/deps",
                "-e", f"S3_ENDPOINT={endpoint}", "-e", f"AWS_ENDPOINT_URL=http://{endpoint}", "-e", "S3_USE_HTTPS=0",
                "-e", "S3_VERIFY_SSL=0", "-e", "AWS_DEFAULT_REGION=us-east-1", "-v", f"{deps}:/deps:ro",
                "-v", f"{models}:/mnt/models", "--entrypoint", "python3", ks.PYTHON_IMAGE, "-c",
                f"from kserve_storage import Storage; Storage.download('s3://ml-models/{key}', '/mnt/models')",
                timeout=300)
        # The sklearn runtime's server (the sklearnserver image's command) with the InferenceService's env
        # from the GitOps tree, as models.localhost.
        isvc = yaml.safe_load((shipped_gitops_dir() / "base/ml/kserve-iris/inferenceservice.yaml").read_text())
        predictor_env = [a for e in isvc["spec"]["predictor"]["model"]["env"] for a in ("-e", f"{e['name']}={e['value']}")]
        _docker(engine, "run", "-d", "--name", containers[1], "--network", topo.network, "--network-alias",
                "models.localhost", "-p", "127.0.0.1::8080", "-v", f"{deps}:/deps:ro", "-v", f"{source}:/srv:ro",
                "-v", f"{models}:/mnt/models:ro", "-e", "PYTHONPATH=/srv:/deps", *predictor_env, "--entrypoint", "python3",
                ks.PYTHON_IMAGE, "-m", "sklearnserver", "--model_dir", "/mnt/models", "--model_name", "iris",
                "--http_port", "8080")
        url = f"http://{_published(engine, containers[1], 8080)}"
        _wait(f"{url}/v2/health/ready", "KServe's sklearn server", engine, containers[1])
        yield Served(url, model.predict_proba(ROWS).tolist(), topo.network, models / key, sha)
    finally:
        for container in containers:
            subprocess.run([engine, "rm", "-f", container], capture_output=True)
        subprocess.run([engine, "network", "rm", topo.network], capture_output=True)


def test_the_storage_initializer_downloads_the_pinned_bytes(served: Served) -> None:
    assert hashlib.sha256(served.model_file.read_bytes()).hexdigest() == served.sha256


def test_v1_protocol_predicts_what_the_model_predicts(served: Served) -> None:
    answer = httpx.post(f"{served.url}/v1/models/iris:predict", json={"instances": ROWS}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert _close(answer.json()["predictions"], served.expected)


def test_v2_protocol_predicts_what_the_model_predicts(served: Served) -> None:
    body = {"inputs": [{"name": "input-0", "shape": [len(ROWS), 4], "datatype": "FP64",
                        "data": [x for row in ROWS for x in row]}]}
    answer = httpx.post(f"{served.url}/v2/models/iris/infer", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    [output] = answer.json()["outputs"]
    assert output["datatype"] == "FP64" and output["shape"] == [len(ROWS), 3]
    assert _close([output["data"][i:i + 3] for i in range(0, len(output["data"]), 3)], served.expected)
    meta = httpx.get(f"{served.url}/v2/models/iris", timeout=10).json()
    assert meta["name"] == "iris"


def test_a_container_on_the_lab_network_reaches_it_by_name(served: Served, engine: str) -> None:
    body = json.dumps({"instances": ROWS})
    probe = ("import urllib.request; r = urllib.request.Request('http://models.localhost:8080/v1/models/iris:predict', "
             f"data={body!r}.encode(), headers={{'Content-Type': 'application/json'}}); "
             "print(urllib.request.urlopen(r, timeout=30).read().decode())")
    out = _docker(engine, "run", "--rm", "--network", served.network, "--entrypoint", "python3", ks.PYTHON_IMAGE,
                  "-c", probe)
    assert _close(json.loads(out)["predictions"], served.expected)


def _close(got: list[list[float]], want: list[list[float]]) -> bool:
    return len(got) == len(want) and all(
        len(g) == len(w) and all(abs(a - b) < 1e-9 for a, b in zip(g, w, strict=True)) for g, w in zip(got, want, strict=True))
