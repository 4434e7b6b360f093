"""Hostile /predict bodies: too big (413), not JSON (415), numbers or nesting JSON cannot hold (422)."""

from __future__ import annotations

import hashlib

import pytest
from app.main import MAX_BODY_BYTES
from test_app import client_for, wait_ready

JSON = {"content-type": "application/json"}


@pytest.fixture()
def client(artifact):
    _, data = artifact
    with client_for({("ml-models", "iris-test.joblib"): data}, hashlib.sha256(data).hexdigest()) as c:
        wait_ready(c)
        yield c


def test_a_body_over_the_cap_gets_413_before_it_is_read_whole(client) -> None:
    big = b'{"features": [' + b"1," * MAX_BODY_BYTES + b"1]}"
    answer = client.post("/predict", content=big, headers=JSON)
    assert answer.status_code == 413
    assert str(MAX_BODY_BYTES) in answer.json()["detail"]


def test_a_streamed_body_without_length_is_cut_at_the_cap(client) -> None:
    def chunks():
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b" " * 1024

    answer = client.post("/predict", content=chunks(), headers=JSON)
    assert answer.status_code == 413


@pytest.mark.parametrize("body", [
    b'{"features": [1' + b"0" * 400 + b', 2, 3, 4]}',   # an int no float can hold
    b'{"features": [' + b"9" * 5000 + b', 2, 3, 4]}',   # over Python's int-digits limit
    b'{"features": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",  # nesting past the recursion limit
    b'{"features": [1e999, 2, 3, 4]}',
])
def test_numbers_and_nesting_json_cannot_hold_get_422(client, body: bytes) -> None:
    answer = client.post("/predict", content=body, headers=JSON)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx"])
def test_a_body_that_does_not_say_json_gets_415(client, ctype: str | None) -> None:
    headers = {"content-type": ctype} if ctype else {}
    answer = client.post("/predict", content=b'{"features": [5.1, 3.5, 1.4, 0.2]}', headers=headers)
    assert answer.status_code == 415
    assert "application/json" in answer.json()["detail"]


def test_json_with_a_charset_is_still_json(client) -> None:
    headers = {"content-type": "application/json; charset=utf-8"}
    answer = client.post("/predict", content=b'{"features": [5.1, 3.5, 1.4, 0.2]}', headers=headers)
    assert answer.status_code == 200
