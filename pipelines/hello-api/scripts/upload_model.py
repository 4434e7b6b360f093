"""Upload the trained artifact to the S3 store and pin it: `ml-models/iris-<model-id>.joblib`.

    python scripts/upload_model.py --model-id abc1234 --dist dist

Reads dist/model.joblib and dist/model.sha256, refuses a file whose digest differs from the recorded
one, creates the bucket when missing, never overwrites an object with different content (a running
pod pins the old digest), re-reads the object to confirm its sha256, and writes dist/release.env
(MODEL_OBJECT, MODEL_SHA) for the update-gitops step. Credentials: AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY; endpoint: S3_ENDPOINT_URL.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

import boto3
from botocore.exceptions import ClientError


def _client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint or None,
                        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def _existing_sha(s3, bucket: str, key: str) -> str | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response["Error"]["Code"] in {"NoSuchKey", "404"}:
            return None
        raise
    return hashlib.sha256(body).hexdigest()


def upload(artifact: Path, recorded_sha: str, bucket: str, key: str, endpoint: str) -> str:
    data = artifact.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != recorded_sha:
        raise SystemExit(f"upload: {artifact} has sha256 {digest}, but training recorded {recorded_sha}")
    s3 = _client(endpoint)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)
        print(f"upload: created bucket {bucket}")
    existing = _existing_sha(s3, bucket, key)
    if existing == digest:
        print(f"upload: s3://{bucket}/{key} already holds this artifact")
    elif existing is not None:
        raise SystemExit(f"upload: s3://{bucket}/{key} exists with sha256 {existing}; objects are immutable "
                         "(a deployment pins it). Use a new --model-id.")
    else:
        s3.put_object(Bucket=bucket, Key=key, Body=data, Metadata={"sha256": digest})
    confirmed = _existing_sha(s3, bucket, key)
    if confirmed != digest:
        raise SystemExit(f"upload: read back s3://{bucket}/{key} with sha256 {confirmed}, expected {digest}")
    return f"s3://{bucket}/{key}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Upload and pin the model artifact.")
    parser.add_argument("--model-id", required=True)
    parser.add_argument("--dist", type=Path, default=Path("dist"))
    parser.add_argument("--bucket", default=os.environ.get("MODEL_BUCKET", "ml-models"))
    parser.add_argument("--prefix", default="iris")
    args = parser.parse_args(argv)

    recorded = (args.dist / "model.sha256").read_text().strip()
    key = f"{args.prefix}-{args.model_id}.joblib"
    uri = upload(args.dist / "model.joblib", recorded, args.bucket, key, os.environ.get("S3_ENDPOINT_URL", ""))
    (args.dist / "release.env").write_text(f"MODEL_OBJECT={uri}\nMODEL_SHA={recorded}\n")
    print(f"upload: {uri} sha256={recorded}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
