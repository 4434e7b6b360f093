"""`up`'s first model, the way `up` makes it: delivery.seed_model runs the pipeline's own train.sh and
upload.sh in a step container (here the offline base image on the host network, reaching a real MLflow
server and a real S3 API), and returns the pin the GitOps repo gets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import boto3
import pytest
from mlflow import MlflowClient

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render.pipelines import render_template
from gitopslab.stack import delivery
from tests.support import services

pytestmark = [pytest.mark.engine, pytest.mark.timeout(900)]


def test_seed_model_trains_registers_and_pins_initial(engine, base_image, tmp_path: Path) -> None:
    cfg = LabConfig()
    workspace = render_template(cfg, build(cfg), tmp_path / "hello-api")
    with services.moto_server(tmp_path) as s3, services.mlflow_server(tmp_path, s3.url) as mlflow:
        pin = delivery.seed_model(
            cfg, build(cfg), workspace,
            access_key=services.S3_KEYS["AWS_ACCESS_KEY_ID"], secret_key=services.S3_KEYS["AWS_SECRET_ACCESS_KEY"],
            image=base_image, network="host", labels={"io.gitopslab.test": "1"},
            extra_env={"MLFLOW_TRACKING_URI": mlflow.url, "S3_ENDPOINT_URL": s3.url,
                       "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt"},
        )
        assert pin.model_object == "s3://ml-models/iris-initial.joblib"
        body = boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1",
                            aws_access_key_id=services.S3_KEYS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=services.S3_KEYS["AWS_SECRET_ACCESS_KEY"],
                            ).get_object(Bucket="ml-models", Key="iris-initial.joblib")["Body"].read()
        assert hashlib.sha256(body).hexdigest() == pin.model_sha
        versions = MlflowClient(tracking_uri=mlflow.url).search_model_versions("name='iris-classifier'")
        assert [v.tags["artifact_sha256"] for v in versions] == [pin.model_sha]
    assert (workspace / ".tags").read_text().strip() == "initial"
