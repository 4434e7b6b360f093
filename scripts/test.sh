#!/usr/bin/env bash
# Install gitopslab with its test extras into .venv and run every test but the `lab` ones.
# Needs a container engine: when none answers and this is root on Debian/Ubuntu (as in CI), it installs
# docker.io, starts dockerd (and stops it again at the end), links the Compose v2 plugin and builds the
# cached local base images. In CI (CI=true) a skipped test is a failure (see tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${PYTHON:-python3}

step() { printf '\n== %s\n' "$*"; }

step "container engine"
dockerd_pid=$(scripts/engine-up.sh | tail -n 1)
# shellcheck disable=SC2329  # invoked by the EXIT trap
cleanup() {
  if [ -n "${build_pid:-}" ] && kill -0 "$build_pid" 2>/dev/null; then
    echo "stopping the real-stack build (what it finished stays cached)" >&2
    kill -- "-$build_pid" 2>/dev/null || true
  fi
  if [ -n "${podman_pid:-}" ]; then
    kill "$podman_pid" 2>/dev/null || true
    timeout 20 sh -c "while kill -0 $podman_pid 2>/dev/null; do sleep 0.5; done" || true
  fi
  if [ -n "${dockerd_pid:-}" ]; then
    kill "$dockerd_pid" 2>/dev/null || true
    timeout 20 sh -c "while kill -0 $dockerd_pid 2>/dev/null; do sleep 0.5; done" || true
  fi
}
trap cleanup EXIT

step "real-stack programs and images: building in the background"
# Gitea, the registry, Woodpecker, kaniko and trivy for tests/real's forge tier, the cluster tier's host
# programs (etcd, Kubernetes, kwok, kustomize, helm, Argo CD) and `serving`'s KServe controller, built from
# upstream's Go modules and ../shared/upstream's archives (scripts/real-stack/build.py; docs/REAL_STACK.md).
# Cached by version: seconds when warm. Cold, it compiles for most of an hour on 2 cores (one Go compile at
# a time; module downloads, Woodpecker's web UI and the Debian bases beside it), so it starts first, with
# only the standard library, and the steps below and the tests that need no engine run beside it;
# tests/support/real_stack_wait.py holds the others until it has ended and prints its output.
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
build_dir=$(mktemp -d "${TMPDIR:-/tmp}/gitopslab-real-stack.XXXXXX")
export GITOPSLAB_REAL_STACK_STATUS="$build_dir/build.status"
# Its own process group (setsid), so the EXIT trap stops the whole build; the status lands whole (mv).
setsid sh -c "$python scripts/real-stack/build.py forge cluster serving >'$build_dir/build.log' 2>&1; \
  echo \$? >'$build_dir/status.tmp'; mv '$build_dir/status.tmp' '$GITOPSLAB_REAL_STACK_STATUS'" </dev/null &
build_pid=$!
export GITOPSLAB_REAL_STACK_PID=$build_pid

step "python environment (.venv)"
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
export PATH="$root/.venv/bin:$PATH"

if ! docker compose version >/dev/null 2>&1; then
  mkdir -p "$HOME/.docker/cli-plugins"
  ln -sf "$root/.venv/bin/docker-compose" "$HOME/.docker/cli-plugins/docker-compose"
fi
docker compose version

step "Debian tools the tests use (promtool, git, chromium, nginx, redis, podman)"
if [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then
  missing=""
  command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
  command -v prometheus-alertmanager >/dev/null 2>&1 || missing="$missing prometheus-alertmanager"
  command -v git >/dev/null 2>&1 || missing="$missing git"
  [ -x /usr/bin/docker-registry ] || missing="$missing docker-registry"
  command -v chromium >/dev/null 2>&1 || missing="$missing chromium fonts-dejavu-core"
  command -v nginx >/dev/null 2>&1 || missing="$missing nginx-light libnginx-mod-stream"
  # Argo CD's cache in the real cluster tier (tests/real/cluster_harness.py); it has no in-memory fallback.
  command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
  command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
  # The forge tier on a real Podman (tests/real/test_podman_forge.py); netavark + aardvark-dns are
  # Podman 5's network stack and answer the lab's network aliases.
  command -v podman >/dev/null 2>&1 || missing="$missing podman"
  [ -x /usr/lib/podman/netavark ] || missing="$missing netavark aardvark-dns"
  if [ -n "$missing" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086  # word splitting is the point: one package per word
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

step "Podman's API service (tests/real/test_podman_forge.py)"
# CONTAINERS_CONF is this sandbox's (its hard rlimits), not the product's: see scripts/podman-up.sh.
if command -v podman >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export CONTAINERS_CONF=/run/podman/containers.conf
  podman_pid=$(scripts/podman-up.sh /run/podman/podman.sock "$CONTAINERS_CONF" | tail -n 1)
fi

step "local base images (cached)"
scripts/build-busybox-image.sh
scripts/build-base-image.sh

step "static checks (ruff, mypy)"
ruff check gitopslab tests benchmarks scripts
mypy gitopslab

step "tests (pytest -m 'not lab')"
set +e
python -m pytest -m "not lab" -p no:cacheprovider "$@"
rc=$?
set -e
# The tests asked for may have needed nothing of the real stack: the build still ends, and says how.
if [ ! -f "$GITOPSLAB_REAL_STACK_STATUS" ] && kill -0 "$build_pid" 2>/dev/null; then
  echo "waiting for the real-stack build to end (log: $build_dir/build.log)"
fi
wait "$build_pid" 2>/dev/null || true
build_status=$(cat "$GITOPSLAB_REAL_STACK_STATUS" 2>/dev/null || echo "none")
if [ "$build_status" != 0 ]; then
  echo "real-stack build: status $build_status; its output:" >&2
  cat "$build_dir/build.log" >&2
  [ "$rc" = 0 ] && rc=1
fi
if [ "$rc" = 5 ]; then
  echo "no tests were collected: that is a failure" >&2
  exit 1
fi
exit "$rc"
