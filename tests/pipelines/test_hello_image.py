"""The hello-api image on the real engine: built from the template on the offline base image, pushed to
a real registry (Debian docker-registry), pulled back and run against a real S3 API (moto)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from gitopslab.render.pipelines import template_dir
from gitopslab.stack import delivery
from tests.support import services

sys.path.insert(0, str(template_dir()))
import train  # noqa: E402  (the template's own training code)

PIP_CERT = "/etc/ssl/certs/ca-certificates.crt"
SAMPLES = [[5.1, 3.5, 1.4, 0.2], [6.0, 2.7, 5.1, 1.6], [6.9, 3.1, 5.4, 2.1], [5.7, 2.8, 4.1, 1.3]]

pytestmark = [pytest.mark.engine, pytest.mark.timeout(600)]


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=300)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[services.Proc, services.Proc]]:
    tmp = tmp_path_factory.mktemp("hello-image")
    with services.moto_server(tmp) as s3, services.registry(tmp) as reg:
        yield s3, reg


@pytest.fixture(scope="module")
def pushed(engine: str, base_image: str, stack) -> Iterator[str]:
    """Build with the real engine, push, drop the local tag, so every run below pulls from the registry."""
    _, reg = stack
    name = f"glt{uuid.uuid4().hex[:8]}"
    ref = f"{reg.url.removeprefix('http://')}/hello-api:{name}"
    delivery.build_image(ref, base_image=base_image, pip_cert=PIP_CERT)
    delivery.push_image(ref)
    docker("rmi", ref)
    yield ref
    docker("rmi", ref, check=False)


@pytest.fixture(scope="module")
def model(stack) -> tuple[object, str, str]:
    """A trained model in the S3 API: (model, MODEL_OBJECT, MODEL_SHA)."""
    s3, _ = stack
    estimator, _ = train.train(c=1.0, max_iter=200, seed=42)
    artifact = services.model_artifact(estimator)
    services.store_models(s3.url, {"iris-good.joblib": artifact, "iris-tampered.joblib": artifact + b"\x00"})
    return estimator, "s3://ml-models/iris-good.joblib", hashlib.sha256(artifact).hexdigest()


def run_api(ref: str, name: str, s3_url: str, model_object: str, model_sha: str, *extra: str) -> str:
    """Start the image on the host network (moto listens on the host's 127.0.0.1); returns its URL."""
    port = services.free_port()
    docker("run", "-d", "--name", name, "--network", "host", "--label", "io.gitopslab.test=1", *extra,
           "-e", f"PORT={port}", "-e", f"MODEL_OBJECT={model_object}", "-e", f"MODEL_SHA={model_sha}",
           "-e", f"S3_ENDPOINT_URL={s3_url}", "-e", "MODEL_RETRY_SECONDS=1",
           *[a for k, v in services.S3_KEYS.items() for a in ("-e", f"{k}={v}")], ref)
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def container(unique_name: str) -> Iterator[str]:
    yield unique_name
    docker("rm", "-f", unique_name, check=False)


def wait_for(url: str, want: int, name: str, seconds: float = 60) -> httpx.Response:
    deadline, last = time.monotonic() + seconds, "no answer"
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == want:
                return answer
            last = f"{answer.status_code} {answer.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.3)
    logs = docker("logs", "--tail", "30", name, check=False)
    raise AssertionError(f"{url} never answered {want} in {seconds}s (last: {last}); logs:\n{logs.stdout}{logs.stderr}")


def test_registry_holds_the_pushed_tag(pushed: str, stack) -> None:
    _, reg = stack
    tag = pushed.rsplit(":", 1)[1]
    assert tag in httpx.get(f"{reg.url}/v2/hello-api/tags/list", timeout=5).json()["tags"]


def test_pulled_image_turns_ready_and_predicts_like_the_model(pushed, model, stack, container) -> None:
    estimator, obj, sha = model
    s3, _ = stack
    url = run_api(pushed, container, s3.url, obj, sha)
    assert wait_for(f"{url}/health", 200, container).json() == {"status": "ok"}
    ready = wait_for(f"{url}/ready", 200, container).json()
    assert ready["ready"] is True and ready["model_object"] == obj
    for sample in SAMPLES:
        answer = httpx.post(f"{url}/predict", json={"features": sample}, timeout=5)
        assert answer.status_code == 200
        assert answer.json()["class"] == estimator.predict([sample])[0]
    for body, detail in [(b"{oops", "not valid JSON"), (json.dumps({"features": [1, 2]}).encode(), "got 2")]:
        bad = httpx.post(f"{url}/predict", content=body, headers={"content-type": "application/json"}, timeout=5)
        assert bad.status_code == 422 and detail in bad.json()["detail"]
    metrics = httpx.get(f"{url}/metrics", timeout=5).text
    assert 'hello_api_requests_total{method="POST",path="/predict",status="422"} 2' in metrics
    assert "hello_api_model_ready 1" in metrics
    user = docker("inspect", "--format", "{{.Config.User}}", container).stdout.strip()
    assert user == "10001:10001"


def test_tampered_object_keeps_it_not_ready_with_the_reason_logged(pushed, model, stack, container) -> None:
    _, _, sha = model
    s3, _ = stack
    url = run_api(pushed, container, s3.url, "s3://ml-models/iris-tampered.joblib", sha)
    wait_for(f"{url}/health", 200, container)
    deadline, reason = time.monotonic() + 60, ""
    while "sha256 mismatch" not in reason and time.monotonic() < deadline:
        answer = httpx.get(f"{url}/ready", timeout=5)
        assert answer.status_code == 503, answer.text
        reason, attempts = answer.json()["reason"], answer.json()["attempts"]
        time.sleep(0.3)
    assert "sha256 mismatch" in reason
    time.sleep(2.5)  # more attempts (MODEL_RETRY_SECONDS=1): still refused
    answer = httpx.get(f"{url}/ready", timeout=5)
    assert answer.status_code == 503 and answer.json()["attempts"] > attempts
    assert httpx.post(f"{url}/predict", json={"features": SAMPLES[0]}, timeout=5).status_code == 503
    logs = docker("logs", container)
    assert f"sha256 mismatch for s3://ml-models/iris-tampered.joblib: expected {sha}" in logs.stdout + logs.stderr


def test_image_is_small_and_has_no_training_stack(pushed: str) -> None:
    docker("pull", "-q", pushed)
    size_mb = int(docker("image", "inspect", "--format", "{{.Size}}", pushed).stdout) / 1e6
    listing = docker("run", "--rm", "--label", "io.gitopslab.test=1", "--entrypoint", "python3", pushed, "-c",
                     "import importlib.util as u; print([m for m in ('mlflow','pandas','pytest') if u.find_spec(m)])")
    assert listing.stdout.strip() == "[]"
    assert size_mb < 450, f"{size_mb:.0f} MB"


def test_a_start_that_serves_a_prediction_compiles_no_bytecode(pushed, model, stack, container) -> None:
    """Issue 26, start-up: the image carries the bytecode of everything a start imports (its user cannot
    write any), so no start compiles numpy, scikit-learn or boto3 again. Run here as root with bytecode
    writing on, a module compiled during the start would leave a new .pyc in `docker diff`."""
    _, obj, sha = model
    s3, _ = stack
    url = run_api(pushed, container, s3.url, obj, sha, "--user", "0", "-e", "PYTHONDONTWRITEBYTECODE=")
    wait_for(f"{url}/ready", 200, container)
    assert httpx.post(f"{url}/predict", json={"features": SAMPLES[0]}, timeout=10).status_code == 200
    compiled = [line for line in docker("diff", container).stdout.splitlines() if line.endswith(".pyc")]
    assert compiled == [], f"{len(compiled)} modules compiled at start, e.g. {compiled[:5]}"


def test_gitopslab_load_holds_the_rate_against_the_real_hello_api(pushed, model, stack, container) -> None:
    """Issue 8: `gitopslab load` against a real hello-api container on the real engine."""
    from gitopslab.clients.loadgen import LoadPlan, run_load

    _, obj, sha = model
    s3, _ = stack
    url = run_api(pushed, container, s3.url, obj, sha)
    wait_for(f"{url}/ready", 200, container)
    started = time.monotonic()
    report = run_load(LoadPlan(url=f"{url}/predict", rps=100, duration=5))
    took = time.monotonic() - started
    assert report.errors == {} and report.ok == report.sent
    assert abs(report.achieved_rps - 100) <= 10, report.as_dict()
    assert report.latency_ms["p50"] is not None and report.latency_ms["p99"] is not None
    assert took < 5 + 2  # stops by itself, on time
    metrics = httpx.get(f"{url}/metrics", timeout=5).text
    served = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                 if line.startswith('hello_api_requests_total{method="POST",path="/predict",status="200"}'))
    assert served >= report.ok  # the container counted every request the generator saw answered
