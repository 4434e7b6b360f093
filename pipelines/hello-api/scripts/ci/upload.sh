#!/bin/sh
# CI step "upload": put dist/model.joblib at s3://ml-models/iris-<model id>.joblib, verified by sha256,
# and write dist/release.env (MODEL_OBJECT, MODEL_SHA) and .tags (the image tag for the build step).
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/ci/common.sh
. scripts/ci/common.sh
ensure_venv
: "${S3_ENDPOINT_URL:?set S3_ENDPOINT_URL (the lab: http://minio.localhost:9090)}"
: "${AWS_ACCESS_KEY_ID:?set AWS_ACCESS_KEY_ID (secret minio_access_key)}"
: "${AWS_SECRET_ACCESS_KEY:?set AWS_SECRET_ACCESS_KEY (secret minio_secret_key)}"
"$PY" scripts/upload_model.py --model-id "$(model_id)" --dist "${DIST:-dist}"
printf '%s\n' "${IMAGE_TAG:-$(short_sha)}" >.tags
