#!/bin/sh
# CI step "update-gitops": pin the new image tag and model in the GitOps repo, and nothing else.
#
#   clusters/app-dev/kustomization.yaml   images[name=hello-api].newTag      <- IMAGE_TAG (if set)
#                                         images[name=hello-api].digest      <- IMAGE_DIGEST (with the tag;
#                                           kustomize then renders image@digest: what was scanned runs)
#   clusters/app-dev/model-configmap.yaml data.MODEL_OBJECT / data.MODEL_SHA <- dist/release.env
#   clusters/ml-dev/models/model-configmap.yaml  the same pin, for the kserve profile's InferenceService
#                                         (its storageUri; GITOPS_MODEL_OVERLAYS, skipped where the tree lacks it)
#
# Both edits change hello-api's pod template once kustomize renders the overlay: the image directly,
# and the model through the ConfigMap generator's hash (gitops/base/app/hello-api: the Deployment reads
# hello-api-model-<hash>), so Argo CD rolls the pods on every new pin.
#
# Environment: GITOPS_REPO (clone URL), GITEA_TOKEN (optional; sent as an HTTP header, never stored in
# the clone's config), IMAGE_TAG or IMAGE_TAG_FILE (neither: keep the deployed image, as the cron
# retrain does), IMAGE_DIGEST or IMAGE_DIGEST_FILE (the digest step's .digest; none: the tag alone),
# GITOPS_BRANCH (main), GITOPS_OVERLAYS (space-separated overlays to pin; default GITOPS_OVERLAY or
# clusters/app-dev; `gitopslab up` pins its initial model in clusters/app-dev and clusters/app-prd),
# GITOPS_MODEL_OVERLAYS (overlays that take the model pin only, no image; default clusters/ml-dev/models;
# `gitopslab up` adds clusters/ml-prd/models; ml-prd is otherwise promoted by a reviewed pull request).
# The commit carries [skip ci].
# `update-gitops.sh --edit-only DIR` applies the same edits to a checked-out tree without git.
set -eu
cd "$(dirname "$0")/../.."

release_env="${DIST:-dist}/release.env"
if [ -f "$release_env" ]; then
  MODEL_OBJECT="${MODEL_OBJECT:-$(sed -n 's/^MODEL_OBJECT=//p' "$release_env")}"
  MODEL_SHA="${MODEL_SHA:-$(sed -n 's/^MODEL_SHA=//p' "$release_env")}"
fi
: "${MODEL_OBJECT:?no MODEL_OBJECT: run the upload step first (it writes $release_env)}"
: "${MODEL_SHA:?no MODEL_SHA: run the upload step first (it writes $release_env)}"
# IMAGE_TAG_FILE: the .tags file the upload step wrote and the kaniko build step tagged the image with.
IMAGE_TAG="${IMAGE_TAG-}"
if [ -z "$IMAGE_TAG" ] && [ -n "${IMAGE_TAG_FILE:-}" ]; then
  IMAGE_TAG=$(tr -d ' \n' <"$IMAGE_TAG_FILE")
fi
IMAGE_DIGEST="${IMAGE_DIGEST-}"
if [ -z "$IMAGE_DIGEST" ] && [ -n "${IMAGE_DIGEST_FILE:-}" ]; then
  IMAGE_DIGEST=$(tr -d ' \n' <"$IMAGE_DIGEST_FILE")
fi
case "$IMAGE_DIGEST" in
  "" | sha256:????????????????????????????????????????????????????????????????) ;;
  *) echo "update-gitops: IMAGE_DIGEST '$IMAGE_DIGEST' is not sha256:<64 hex>" >&2; exit 1 ;;
esac
overlays="${GITOPS_OVERLAYS:-${GITOPS_OVERLAY:-clusters/app-dev}}"
model_overlays="${GITOPS_MODEL_OVERLAYS-clusters/ml-dev/models}"

# Replace newTag inside the images entry named hello-api; fail if there is no such entry.
edit_tag() {
  file="$1/$2/kustomization.yaml"
  # A digest line of the entry is replaced (or dropped when IMAGE_DIGEST is empty: a new tag must
  # not be overridden by an old digest) and written again right after newTag.
  awk -v tag="$IMAGE_TAG" -v digest="$IMAGE_DIGEST" '
    /^[^[:space:]#]/ { in_images = ($0 ~ /^images:/); entry = 0 }
    in_images && /^[[:space:]]*-[[:space:]]/ { entry = 0 }
    in_images && /^[[:space:]]*-?[[:space:]]*name:[[:space:]]*"?hello-api"?[[:space:]]*$/ { entry = 1 }
    in_images && entry && /^[[:space:]]*digest:/ { next }
    in_images && entry && /^[[:space:]]*-?[[:space:]]*newTag:/ {
      sub(/newTag:.*/, "newTag: \"" tag "\""); done = 1
      print
      if (digest != "") {
        indent = substr($0, 1, index($0, "newTag") - 1); gsub(/-/, " ", indent)
        print indent "digest: \"" digest "\""
      }
      next
    }
    { print }
    END { if (!done) exit 3 }
  ' "$file" >"$file.new" || {
    rm -f "$file.new"
    echo "update-gitops: $file has no images entry 'name: hello-api' with a newTag line" >&2
    exit 1
  }
  mv "$file.new" "$file"
}

# Replace data.MODEL_OBJECT and data.MODEL_SHA; fail if either key is missing.
edit_model() {
  file="$1/$2/model-configmap.yaml"
  awk -v obj="$MODEL_OBJECT" -v sha="$MODEL_SHA" '
    /^[^[:space:]#]/ { in_data = ($0 ~ /^data:/) }
    in_data && /^[[:space:]]+MODEL_OBJECT:/ { sub(/MODEL_OBJECT:.*/, "MODEL_OBJECT: \"" obj "\""); n++ }
    in_data && /^[[:space:]]+MODEL_SHA:/ { sub(/MODEL_SHA:.*/, "MODEL_SHA: \"" sha "\""); n++ }
    { print }
    END { if (n != 2) exit 3 }
  ' "$file" >"$file.new" || {
    rm -f "$file.new"
    echo "update-gitops: $file needs data.MODEL_OBJECT and data.MODEL_SHA" >&2
    exit 1
  }
  mv "$file.new" "$file"
}

edit_tree() {
  for overlay in $overlays; do
    if [ -n "$IMAGE_TAG" ]; then edit_tag "$1" "$overlay"; fi
    edit_model "$1" "$overlay"
  done
  for overlay in $model_overlays; do
    # A user's tree without the kserve profile's overlay is pinned as before.
    [ -f "$1/$overlay/model-configmap.yaml" ] || continue
    edit_model "$1" "$overlay"
  done
}

if [ "${1:-}" = --edit-only ]; then
  edit_tree "${2:?usage: update-gitops.sh --edit-only DIR}"
  exit 0
fi

: "${GITOPS_REPO:?set GITOPS_REPO (the lab: http://gitea.localhost:3000/platform/gitops.git)}"
branch="${GITOPS_BRANCH:-main}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The token travels as a header per command, so it is never written into .git/config or a URL.
git_remote() {
  if [ -n "${GITEA_TOKEN:-}" ]; then
    auth=$(printf '%s:%s' "${GITEA_USER:-gitopslab-ci}" "$GITEA_TOKEN" | base64 | tr -d '\n')
    git -c "http.extraHeader=Authorization: Basic $auth" "$@"
  else
    git "$@"
  fi
}

git_remote clone --quiet --depth 20 --branch "$branch" "$GITOPS_REPO" "$work/repo"
cd "$work/repo"
git config user.name "${GIT_AUTHOR_NAME:-gitopslab-ci}"
git config user.email "${GIT_AUTHOR_EMAIL:-ci@gitopslab.localhost}"

what="model ${MODEL_OBJECT##*/}"
[ -z "$IMAGE_TAG" ] || what="hello-api:$IMAGE_TAG${IMAGE_DIGEST:+@$IMAGE_DIGEST}, $what"
attempt=1
while :; do
  edit_tree "$PWD"
  if git diff --quiet; then
    echo "update-gitops: $GITOPS_REPO already pins $what"
    exit 0
  fi
  git commit --quiet -am "deploy $what [skip ci]" -m "sha256 $MODEL_SHA, from ${CI_REPO:-hello-api}@${CI_COMMIT_SHA:-local}"
  if git_remote push --quiet origin "HEAD:$branch"; then
    echo "update-gitops: pushed $(git rev-parse --short HEAD) to $branch: $what"
    exit 0
  fi
  # Someone pushed in between: start again from their commit (the edits are idempotent).
  [ "$attempt" -lt 3 ] || { echo "update-gitops: push to $branch rejected 3 times" >&2; exit 1; }
  attempt=$((attempt + 1))
  git_remote fetch --quiet origin "$branch"
  git reset --quiet --hard FETCH_HEAD
done
