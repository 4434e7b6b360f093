#!/bin/sh
# CI step "digest": the content digest of the image the build step pushed, written to .digest once;
# scan and update-gitops use image@digest from it, so what runs is exactly what was scanned.
set -eu
cd "$(dirname "$0")/../.."
tag=$(tr -d ' \n' <"${IMAGE_TAG_FILE:-.tags}")
python3 scripts/ci/registry_digest.py "${REGISTRY:-registry.localhost:5002}" hello-api "$tag" >"${IMAGE_DIGEST_FILE:-.digest}"
echo "digest: hello-api:$tag is $(cat "${IMAGE_DIGEST_FILE:-.digest}")"
