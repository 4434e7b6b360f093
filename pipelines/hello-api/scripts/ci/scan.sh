#!/bin/sh
# CI step "scan": trivy scans the pushed image; HIGH or CRITICAL findings stop the pipeline.
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/ci/common.sh
. scripts/ci/common.sh
image="${REGISTRY:-registry.localhost:5002}/hello-api:$(short_sha)"
# The lab registry speaks plain HTTP.
TRIVY_INSECURE=true trivy image --exit-code 1 --severity HIGH,CRITICAL --ignore-unfixed \
  --no-progress "$image"
