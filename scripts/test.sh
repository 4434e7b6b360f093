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

step "python environment (.venv)"
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
export PATH="$root/.venv/bin:$PATH"

step "container engine"
dockerd_pid=$(scripts/engine-up.sh | tail -n 1)
# shellcheck disable=SC2329  # invoked by the EXIT trap
cleanup() {
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

step "real-stack images (built from upstream Go modules; cached by version)"
# Gitea and the registry for tests/real (scripts/real-stack/build.py; docs/REAL_STACK.md), and the
# cluster tier's host programs (etcd, Kubernetes, kwok, kustomize, helm, Argo CD). A warm cache costs
# seconds; a cold one builds each program once (tens of minutes on 2 cores). `serving`: KServe's
# controller (cmd/manager, from ../shared/upstream's kserve archive) that tests/real/test_kserve_controller.py
# runs against the cluster tier; about 24 min cold, seconds warm.
# The three tiers are one plan (scripts/real-stack/schedule.py): one Go compile at a time (two measured
# slower on a busy 2-core machine), module downloads, Woodpecker's web UI and the Debian bases beside it;
# a cold build ends with each program's seconds, their sum and the wall clock.
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
python scripts/real-stack/build.py forge cluster serving

step "static checks (ruff, mypy)"
ruff check gitopslab tests benchmarks scripts
mypy gitopslab

step "tests (pytest -m 'not lab')"
set +e
python -m pytest -m "not lab" -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "no tests were collected: that is a failure" >&2
  exit 1
fi
exit "$rc"
