# Sourced by the step scripts. POSIX sh: runs in the python (Debian) and alpine/git step images.
# shellcheck shell=sh

# The short commit id: tags the image (registry.localhost:5002/hello-api:<id>) and names the model.
short_sha() {
  sha="${CI_COMMIT_SHA:-$(git rev-parse HEAD)}"
  printf '%.7s' "$sha"
}

# MODEL_ID overrides (gitopslab up seeds "initial"). A cron retrain re-trains the same commit: the
# model gets its own id so the object a running pod pins is never overwritten (objects are immutable).
model_id() {
  if [ -n "${MODEL_ID:-}" ]; then
    printf '%s' "$MODEL_ID"
  elif [ "${CI_PIPELINE_EVENT:-}" = cron ]; then
    printf '%s-r%s' "$(short_sha)" "${CI_PIPELINE_NUMBER:-0}"
  else
    short_sha
  fi
}

# The lab's CI image (images/hello-api-ci, built by `gitopslab up`) holds the packages in /opt/ci/venv,
# stamped with the sha256 of the requirement files it was built from. Used while this checkout's files
# are the same; a changed requirement (or another step image) falls back to one virtual environment in
# the workspace, shared by the python steps of a pipeline and installed from the index.
CI_IMAGE_VENV="${CI_IMAGE_VENV:-/opt/ci/venv}"

requirements_sha() {
  cat requirements.txt requirements-train.txt requirements-dev.txt | sha256sum | cut -d' ' -f1
}

ensure_venv() {
  if [ -z "${CI_VENV:-}" ] && [ -x "$CI_IMAGE_VENV/bin/python" ] \
    && [ "$(requirements_sha)" = "$(cat "$CI_IMAGE_VENV/requirements.sha256" 2>/dev/null)" ]; then
    # shellcheck disable=SC2034  # read by the step scripts that source this file
    PY="$CI_IMAGE_VENV/bin/python"
    echo "using the CI image's packages ($CI_IMAGE_VENV): the requirement files are the ones it was built from" >&2
    return 0
  fi
  venv="${CI_VENV:-.ci/venv}"
  if [ -z "${CI_VENV:-}" ] && [ -x "$CI_IMAGE_VENV/bin/python" ]; then
    echo "requirements changed since the CI image was built: installing them into $venv" >&2
  fi
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir -r requirements-dev.txt
  fi
  # shellcheck disable=SC2034  # read by the step scripts that source this file
  PY="$venv/bin/python"
}

# The digest the digest step recorded (IMAGE_DIGEST_FILE, default .digest), checked for its shape.
image_digest() {
  file="${IMAGE_DIGEST_FILE:-.digest}"
  [ -f "$file" ] || { echo "no $file: run the digest step after build (it records the pushed digest)" >&2; return 1; }
  value=$(tr -d ' \n' <"$file")
  case "$value" in
    sha256:*) ;;
    *) echo "$file holds '$value', not a sha256:<64 hex> digest" >&2; return 1 ;;
  esac
  [ "${#value}" -eq 71 ] || { echo "$file holds '$value', not a sha256:<64 hex> digest" >&2; return 1; }
  printf '%s' "$value"
}
