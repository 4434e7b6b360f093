"""Credentials the GitOps tree's workloads read, created in the cluster through kubectl (never in git):
the S3 store's root login and the S3 credentials of MLflow and hello-api, and Grafana's admin login in
the observability profile, KServe's S3 login in the kserve profile. Their namespaces are created first; Argo CD adopts them later."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import yaml

from gitopslab.model.config import LabConfig

# (namespace, secret name, {key: state secret name}) for each profile
_SECRETS: dict[str, list[tuple[str, str, dict[str, str]]]] = {
    "core": [
        ("ml-dev", "minio-root", {"MINIO_ROOT_USER": "minio_root_user", "MINIO_ROOT_PASSWORD": "minio_root_password"}),
        # Least privilege (stack/s3_users.py): MLflow writes its own bucket, hello-api only reads models.
        ("ml-dev", "mlflow-s3", {"AWS_ACCESS_KEY_ID": "=gitopslab-mlflow",
                                 "AWS_SECRET_ACCESS_KEY": "s3_mlflow_secret_key"}),
        ("app-dev", "hello-api-s3", {"AWS_ACCESS_KEY_ID": "=gitopslab-serving",
                                     "AWS_SECRET_ACCESS_KEY": "s3_serving_secret_key"}),
        ("app-prd", "hello-api-s3", {"AWS_ACCESS_KEY_ID": "=gitopslab-serving",
                                     "AWS_SECRET_ACCESS_KEY": "s3_serving_secret_key"}),
    ],
    "observability": [
        ("monitoring", "grafana-admin", {"admin-user": "=admin", "admin-password": "grafana_admin_password"}),
    ],
    # The InferenceService's ServiceAccount (kserve-models) names this Secret: KServe's storage initializer
    # reads the serving consumer's own read-only login from it (stack/s3_users.py), never the root login.
    "kserve": [
        ("ml-dev", "kserve-s3", {"AWS_ACCESS_KEY_ID": "=gitopslab-kserve", "AWS_SECRET_ACCESS_KEY": "s3_kserve_secret_key"}),
        ("ml-prd", "kserve-s3", {"AWS_ACCESS_KEY_ID": "=gitopslab-kserve", "AWS_SECRET_ACCESS_KEY": "s3_kserve_secret_key"}),
    ],
}
# KServe reads the S3 settings from the credential Secret's annotations (its S3 credential builder,
# pkg/credentials/s3): the lab's store in-cluster, plain HTTP, as hello-api reaches it.
_ANNOTATIONS: dict[str, dict[str, str]] = {
    "kserve-s3": {"serving.kserve.io/s3-endpoint": "minio.ml-dev.svc:9000", "serving.kserve.io/s3-usehttps": "0",
                  "serving.kserve.io/s3-verifyssl": "0", "serving.kserve.io/s3-region": "us-east-1"},
}


def _value(source: str, secrets: Mapping[str, str] | None) -> str:
    if source.startswith("="):
        return source[1:]
    return secrets[source] if secrets is not None else f"<secret:{source}>"


def objects(cfg: LabConfig, secrets: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Namespaces then Secrets for the active profiles; placeholders when `secrets` is None."""
    wanted = [s for profile in cfg.profiles for s in _SECRETS.get(profile, [])]
    namespaces = sorted({ns for ns, _, _ in wanted})
    out: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                                 for ns in namespaces]
    for ns, name, keys in wanted:
        out.append({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/managed-by": "gitopslab"},
                         **({"annotations": _ANNOTATIONS[name]} if name in _ANNOTATIONS else {})},
            "stringData": {key: _value(src, secrets) for key, src in keys.items()},
        })
    return out


def render(cfg: LabConfig, secrets: Mapping[str, str] | None = None) -> str:
    return yaml.safe_dump_all(objects(cfg, secrets), sort_keys=False)


def _encoded(obj: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64encode(v.encode()).decode() for k, v in obj["stringData"].items()}


def applied(kube: Any, cfg: LabConfig, secrets: Mapping[str, str]) -> bool:
    """True when every Secret exists with exactly the wanted data."""
    for obj in objects(cfg, secrets):
        if obj["kind"] != "Secret":
            continue
        live = kube.exists("secret", obj["metadata"]["name"], obj["metadata"]["namespace"]) or {}
        if live.get("data") != _encoded(obj):
            return False
    return True


def apply(kube: Any, cfg: LabConfig, secrets: Mapping[str, str]) -> None:
    kube.apply(stdin=render(cfg, secrets), force_conflicts=True)
