#!/bin/sh
# CI step "test": the app's unit tests (no network services needed).
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/ci/common.sh
. scripts/ci/common.sh
ensure_venv
"$PY" -m pytest -q tests
