#!/bin/sh
# CI step "train": train, log to MLflow (MLFLOW_TRACKING_URI), register a version, write dist/.
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/ci/common.sh
. scripts/ci/common.sh
ensure_venv
: "${MLFLOW_TRACKING_URI:?set MLFLOW_TRACKING_URI (the lab: http://mlflow.localhost:8090)}"
"$PY" train.py --model-id "$(model_id)" --out "${DIST:-dist}"
