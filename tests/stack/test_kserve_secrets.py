"""Issue 27: the kserve profile's S3 login. KServe's storage initializer reads the serving consumer's own
read-only user (gitopslab-kserve) from Secret kserve-s3, whose annotations name the store the chart's values
name; never the root login, and nothing of it without the profile."""

from __future__ import annotations

import yaml

from gitopslab.lint import shipped_gitops_dir
from gitopslab.model.config import LabConfig
from gitopslab.stack import app_secrets, s3_users


def test_kserve_s3_is_the_read_only_serving_login_in_both_ml_namespaces() -> None:
    secrets = {"s3_kserve_secret_key": "k" * 32, "minio_root_user": "root", "minio_root_password": "r" * 24,
               "s3_mlflow_secret_key": "m" * 32, "s3_serving_secret_key": "s" * 32}
    made = [o for o in app_secrets.objects(LabConfig(kserve=True), secrets)
            if o["kind"] == "Secret" and o["metadata"]["name"] == "kserve-s3"]
    assert sorted(o["metadata"]["namespace"] for o in made) == ["ml-dev", "ml-prd"]
    values = yaml.safe_load((shipped_gitops_dir() / "base/platform/kserve/values.yaml").read_text())
    for secret in made:
        assert secret["stringData"] == {"AWS_ACCESS_KEY_ID": "gitopslab-kserve", "AWS_SECRET_ACCESS_KEY": "k" * 32}
        notes = secret["metadata"]["annotations"]
        assert notes["serving.kserve.io/s3-endpoint"] == values["kserve"]["storage"]["s3"]["endpoint"]
        assert notes["serving.kserve.io/s3-usehttps"] == "0"
    assert not [o for o in app_secrets.objects(LabConfig(), secrets) if o["metadata"]["name"] == "kserve-s3"]


def test_the_kserve_user_may_only_read_models() -> None:
    user = s3_users.USERS["kserve"]
    assert user.access_key == "gitopslab-kserve" and user.secret == "s3_kserve_secret_key"
    actions = {a for st in user.policy["Statement"] for a in st["Action"]}
    assert actions == {"s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject"}
    assert {r for st in user.policy["Statement"] for r in st["Resource"]} == {
        "arn:aws:s3:::ml-models", "arn:aws:s3:::ml-models/*"}
