"""S3 users per consumer (issue 12, item 6) on the real S3 store: MinIO built from its Go module (the
pinned silo fork keeps MinIO's admin API), driven by the project's own step. Each consumer can do what
its flow needs and nothing more, checked with boto3 as the consumer itself; a second run is a no-op."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from gitopslab.context import Context
from gitopslab.errors import LabError
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.stack import s3_users
from gitopslab.state import LabState
from tests.real.cluster_harness import free_port, program


@pytest.fixture(scope="module")
def lab(real_cluster_programs: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    """A lab whose S3 API port is a real MinIO server with the lab's root login, and both buckets."""
    root = tmp_path_factory.mktemp("s3users")
    port = free_port()
    cfg = load_config(None, {}, {"name": "s3users", "ports": {"minio_api": port}})
    ctx = Context(cfg=cfg, topo=build(cfg), state=LabState("s3users", root / "state"))
    secrets = ctx.state.secrets()
    env = {**os.environ, "MINIO_ROOT_USER": secrets["minio_root_user"],
           "MINIO_ROOT_PASSWORD": secrets["minio_root_password"], "MINIO_BROWSER": "off"}
    log = (root / "minio.log").open("wb")
    server = subprocess.Popen([str(program("minio-upstream", "minio")), "server", str(root / "data"), "--address", f"127.0.0.1:{port}"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_live(port, server, root / "minio.log")
        root_s3 = _s3(port, secrets["minio_root_user"], secrets["minio_root_password"])
        for bucket in ("mlflow", "ml-models"):  # what the store's bucket Job creates in the lab
            root_s3.create_bucket(Bucket=bucket)
        root_s3.put_object(Bucket="ml-models", Key="iris-1.joblib", Body=b"model-1")
        yield ctx
    finally:
        server.terminate()
        server.wait(20)
        log.close()


def _wait_live(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline, last = time.monotonic() + 60, "no answer yet"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"minio exited {server.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/minio/health/live", timeout=2).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.3)
    raise AssertionError(f"minio on {port} not live in 60 s (last: {last})")


def _s3(port: int, access: str, secret: str):  # type: ignore[no-untyped-def]
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id=access, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def _as(ctx: Context, consumer: str):  # type: ignore[no-untyped-def]
    user = s3_users.USERS[consumer]
    return _s3(ctx.topo.service("minio_api").port, user.access_key, ctx.state.secret(user.secret))


def _denied(call) -> bool:  # type: ignore[no-untyped-def]
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "AccessDenied"
    return False


def test_each_consumer_can_do_its_flow_and_nothing_more(lab: Context) -> None:
    assert not s3_users.users_ready(lab)
    s3_users.ensure_users(lab)
    assert s3_users.users_ready(lab)

    ci = _as(lab, "ci")  # upload.sh: head_bucket, get_object (is it there?), put_object, read back
    ci.head_bucket(Bucket="ml-models")
    ci.put_object(Bucket="ml-models", Key="iris-2.joblib", Body=b"model-2")
    assert ci.get_object(Bucket="ml-models", Key="iris-2.joblib")["Body"].read() == b"model-2"
    with pytest.raises(ClientError) as missing:
        ci.get_object(Bucket="ml-models", Key="iris-404.joblib")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"  # ListBucket lets a miss say so
    assert _denied(lambda: ci.delete_object(Bucket="ml-models", Key="iris-1.joblib"))
    assert _denied(lambda: ci.put_object(Bucket="mlflow", Key="x", Body=b"x"))
    assert _denied(lambda: ci.create_bucket(Bucket="elsewhere"))

    serving = _as(lab, "serving")  # hello-api: reads the pinned model
    assert serving.get_object(Bucket="ml-models", Key="iris-1.joblib")["Body"].read() == b"model-1"
    assert _denied(lambda: serving.put_object(Bucket="ml-models", Key="iris-1.joblib", Body=b"evil"))
    assert _denied(lambda: serving.get_object(Bucket="mlflow", Key="x"))

    mlflow = _as(lab, "mlflow")  # the artifact store: read, write, delete its own bucket only
    mlflow.put_object(Bucket="mlflow", Key="artifacts/1/model.pkl", Body=b"a")
    mlflow.delete_object(Bucket="mlflow", Key="artifacts/1/model.pkl")
    assert _denied(lambda: mlflow.get_object(Bucket="ml-models", Key="iris-1.joblib"))

    # The root login still works for the store itself; no consumer holds it.
    assert lab.state.secret("minio_root_password") not in {lab.state.secret(u.secret) for u in s3_users.USERS.values()}


def test_the_step_is_idempotent_and_notices_a_changed_policy(lab: Context) -> None:
    (step,) = [s3_users.step()]
    s3_users.ensure_users(lab)
    lab.state.mark_done("s3.users")
    assert step.done(lab)  # a second `up` changes nothing
    admin = s3_users.admin(lab)
    # Someone widens the serving policy by hand: the next `up` sees it and writes the least policy back.
    admin._admin.policy_add("gitopslab-serving", policy={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}]})
    assert not step.done(lab)
    s3_users.ensure_users(lab)
    assert step.done(lab)
    assert _denied(lambda: _as(lab, "serving").put_object(Bucket="ml-models", Key="k", Body=b"x"))


def test_a_wrong_root_login_is_named_with_the_fix(lab: Context, tmp_path: Path) -> None:
    from gitopslab.clients.s3_admin import S3Admin

    wrong = S3Admin(s3_users.endpoint(lab), lab.state.secret("minio_root_user"), "not-the-password", timeout=5)
    with pytest.raises(LabError) as caught:
        wrong.ensure_user("gitopslab-x", "x" * 32, "gitopslab-x", s3_users.USERS["ci"].policy)
    assert f"S3 store at 127.0.0.1:{lab.topo.service('minio_api').port}: writing policy gitopslab-x failed: HTTP 403" \
        in caught.value.message
    assert "gitopslab creds" in (caught.value.hint or "")
