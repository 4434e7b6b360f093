"""One S3 user per consumer, each with the least policy its flow needs, so no pod and no pipeline holds
the store's root login (only the store itself and its bucket Job do):

    gitopslab-ci       CI's upload step: read and write objects in ml-models (no delete)
    gitopslab-mlflow   MLflow's artifact store: read, write and delete in mlflow
    gitopslab-serving  hello-api in app-dev and app-prd: read objects in ml-models
    gitopslab-kserve   the kserve profile's storage initializer (ml-dev, ml-prd): read objects in ml-models

The secrets are generated once in the state dir; the users and policies are written through the
store's admin API (clients/s3_admin.py) once the store answers, before the first model is delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitopslab.context import Context
from gitopslab.stack.step import FuncStep, Step

_BUCKET_READ = ["s3:GetBucketLocation", "s3:ListBucket"]
_MULTIPART = ["s3:ListBucketMultipartUploads"]


def _policy(bucket: str, objects: list[str], bucket_actions: list[str] | None = None) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": _BUCKET_READ + (bucket_actions or []), "Resource": [f"arn:aws:s3:::{bucket}"]},
        {"Effect": "Allow", "Action": objects, "Resource": [f"arn:aws:s3:::{bucket}/*"]},
    ]}


@dataclass(frozen=True)
class S3User:
    access_key: str     # also the policy's name
    secret: str         # the state secret that holds its secret key
    policy: dict[str, Any]


USERS: dict[str, S3User] = {
    "ci": S3User("gitopslab-ci", "s3_ci_secret_key", _policy("ml-models", ["s3:GetObject", "s3:PutObject"])),
    "mlflow": S3User("gitopslab-mlflow", "s3_mlflow_secret_key", _policy(
        "mlflow", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                   "s3:ListMultipartUploadParts"], _MULTIPART)),
    "serving": S3User("gitopslab-serving", "s3_serving_secret_key", _policy("ml-models", ["s3:GetObject"])),
    # KServe's storage initializer lists the storageUri's prefix before it downloads (ListBucket: _BUCKET_READ).
    "kserve": S3User("gitopslab-kserve", "s3_kserve_secret_key", _policy("ml-models", ["s3:GetObject"])),
}


def endpoint(ctx: Context) -> str:
    """The store's S3 API as the host reaches it (the cluster's NodePort on 127.0.0.1)."""
    return f"127.0.0.1:{ctx.topo.service('minio_api').port}"


def admin(ctx: Context, at: str | None = None) -> Any:
    from gitopslab.clients.s3_admin import S3Admin

    secrets = ctx.state.secrets()
    return S3Admin(at or endpoint(ctx), secrets["minio_root_user"], secrets["minio_root_password"],
                   timeout=float(ctx.cfg.timeouts.http))


def users_ready(ctx: Context, at: str | None = None) -> bool:
    """Every user exists, is enabled, has exactly its policy, and the policy is the one written here."""
    store = admin(ctx, at)
    for user in USERS.values():
        if store.user_policy(user.access_key) != user.access_key:
            return False
        if _normalized(store.policy(user.access_key)) != _normalized(user.policy):
            return False
    return True


def ensure_users(ctx: Context, at: str | None = None) -> None:
    store = admin(ctx, at)
    secrets = ctx.state.secrets()
    for user in USERS.values():
        store.ensure_user(user.access_key, secrets[user.secret], user.access_key, user.policy)


def _normalized(policy: dict[str, Any] | None) -> Any:
    if policy is None:
        return None
    statements = policy.get("Statement") or []
    return sorted((s.get("Effect"), sorted(_list(s.get("Action"))), sorted(_list(s.get("Resource"))))
                  for s in statements)


def _list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def step() -> Step:
    def apply(ctx: Context) -> None:
        from gitopslab.stack.delivery import wait_for_ml_services

        wait_for_ml_services(ctx)
        ensure_users(ctx)

    return FuncStep("s3.users", "S3 users per consumer (CI, MLflow, hello-api), least privilege",
                    _ready_if_answering, apply)


def _ready_if_answering(ctx: Context) -> bool:
    """A first `up` finds no store yet: not ready (apply waits for it), never an error. The store cannot
    show a secret back, so the journal vouches that the secrets written are the state's."""
    from gitopslab.errors import LabError

    if not ctx.state.is_done("s3.users"):
        return False
    try:
        return users_ready(ctx)
    except LabError:
        return False
