"""The API against an in-memory object store: readiness, sha256 pinning, /predict, 422s, /metrics."""

from __future__ import annotations

import hashlib
import time

import pytest
from app.main import create_app
from app.model import ModelError, Settings
from starlette.testclient import TestClient

SAMPLE_SETOSA = [5.1, 3.5, 1.4, 0.2]
SAMPLE_VIRGINICA = [6.9, 3.1, 5.4, 2.1]


def settings(sha: str, obj: str = "s3://ml-models/iris-test.joblib") -> Settings:
    return Settings(model_object=obj, model_sha=sha, s3_endpoint_url="", model_version="", retry_seconds=0.05)


def client_for(store: dict[tuple[str, str], bytes], sha: str, **kw: str) -> TestClient:
    def fetch(bucket: str, key: str) -> bytes:
        if (bucket, key) not in store:
            raise ModelError(f"object s3://{bucket}/{key} does not exist")
        return store[(bucket, key)]

    return TestClient(create_app(settings(sha, **kw), fetch_factory=lambda: fetch))


def wait_ready(client: TestClient, want: bool = True, seconds: float = 5.0) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        answer = client.get("/ready")
        if (answer.status_code == 200) == want or time.monotonic() > deadline:
            return answer.json()
        time.sleep(0.02)


def test_ready_and_predict_match_the_model(artifact) -> None:
    model, data = artifact
    store = {("ml-models", "iris-test.joblib"): data}
    with client_for(store, hashlib.sha256(data).hexdigest()) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert wait_ready(client)["ready"] is True
        for sample in (SAMPLE_SETOSA, SAMPLE_VIRGINICA):
            answer = client.post("/predict", json={"features": sample})
            assert answer.status_code == 200
            body = answer.json()
            assert body["class"] == model.predict([sample])[0]
            assert set(body["probabilities"]) == {"setosa", "versicolor", "virginica"}
            assert abs(sum(body["probabilities"].values()) - 1) < 1e-3
        assert client.post("/predict", json={"features": SAMPLE_SETOSA}).json()["class"] == "setosa"


def test_tampered_object_stays_not_ready_with_the_reason(artifact, caplog) -> None:
    _, data = artifact
    store = {("ml-models", "iris-test.joblib"): data + b"tampered"}
    with client_for(store, hashlib.sha256(data).hexdigest()) as client:
        body = wait_ready(client, want=False, seconds=0.3)
        time.sleep(0.2)
        assert client.get("/ready").status_code == 503
        assert "sha256 mismatch" in client.get("/ready").json()["reason"]
        assert client.post("/predict", json={"features": SAMPLE_SETOSA}).status_code == 503
    assert body["ready"] is False
    assert any("sha256 mismatch" in r.getMessage() for r in caplog.records)


def test_missing_object_turns_ready_once_it_appears(artifact) -> None:
    _, data = artifact
    store: dict[tuple[str, str], bytes] = {}
    with client_for(store, hashlib.sha256(data).hexdigest()) as client:
        reason = client.get("/ready").json()["reason"]
        assert "does not exist" in reason or "not loaded yet" in reason
        store[("ml-models", "iris-test.joblib")] = data
        assert wait_ready(client)["ready"] is True


@pytest.mark.parametrize(("body", "detail"), [
    (b"{not json", "not valid JSON"),
    (b"[1, 2, 3, 4]", "JSON object"),
    (b'{"features": [1, 2, 3]}', "must have 4 numbers, got 3"),
    (b'{"features": [1, 2, 3, 4, 5]}', "must have 4 numbers, got 5"),
    (b'{"features": [1, 2, "x", 4]}', "'features'[2] must be a finite number"),
    (b'{"features": [1, 2, true, 4]}', "'features'[2] must be a finite number"),
    (b'{"features": "1,2,3,4"}', "must be a list"),
])
def test_bad_bodies_get_422_with_the_reason(artifact, body: bytes, detail: str) -> None:
    _, data = artifact
    store = {("ml-models", "iris-test.joblib"): data}
    with client_for(store, hashlib.sha256(data).hexdigest()) as client:
        wait_ready(client)
        answer = client.post("/predict", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 422
        assert detail in answer.json()["detail"]


def test_metrics_count_requests_and_name_the_model(artifact) -> None:
    _, data = artifact
    sha = hashlib.sha256(data).hexdigest()
    store = {("ml-models", "iris-test.joblib"): data}
    with client_for(store, sha) as client:
        wait_ready(client)
        for _ in range(3):
            client.post("/predict", json={"features": SAMPLE_SETOSA})
        client.get("/no-such-page")
        text = client.get("/metrics").text
    assert 'hello_api_requests_total{method="POST",path="/predict",status="200"} 3' in text
    assert 'hello_api_requests_total{method="GET",path="other",status="404"} 1' in text
    assert 'hello_api_request_duration_seconds_count{path="/predict"} 3' in text
    assert 'hello_api_request_duration_seconds_bucket{path="/predict",le="+Inf"} 3' in text
    assert f'hello_api_model_info{{version="iris-test.joblib",object="s3://ml-models/iris-test.joblib",sha256="{sha}"}} 1' in text
    assert "hello_api_model_ready 1" in text
    assert 'hello_api_predictions_total{class="setosa"} 3' in text


def test_docs_and_openapi_describe_predict(artifact) -> None:
    with client_for({}, "0" * 64) as client:
        assert "/predict" in client.get("/docs").text
        assert "/predict" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(("sha", "obj", "reason"), [
    ("abc", "s3://ml-models/iris-test.joblib", "64-character hex"),
    ("0" * 64, "ml-models/iris-test.joblib", "s3://bucket/key"),
])
def test_bad_settings_are_named(sha: str, obj: str, reason: str) -> None:
    with client_for({}, sha, obj=obj) as client:
        time.sleep(0.1)
        assert reason in client.get("/ready").json()["reason"]
