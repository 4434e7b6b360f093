#!/bin/sh
# Make sure a container engine answers. On a root Debian/Ubuntu machine without one (as in CI),
# install docker.io and start dockerd, per the project's CI recipe. Prints the dockerd PID it started
# (empty when an engine was already answering) on the last line, so the caller can stop it.
set -eu

if docker info >/dev/null 2>&1; then
  echo "engine: already answering ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))" >&2
  echo ""
  exit 0
fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  echo "engine: no container engine answers and this is not a root Debian/Ubuntu machine." >&2
  echo "        start Docker (or Podman with DOCKER_HOST set) and run again." >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1 \
   || ! command -v docker-registry >/dev/null 2>&1 || ! [ -x /bin/busybox ]; then
  echo "engine: installing docker.io, debootstrap, busybox-static, docker-registry" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io debootstrap busybox-static docker-registry ca-certificates curl >&2
fi

# All three streams redirected: a daemon holding the test run's stdout would hang whatever waits on it.
setsid nohup dockerd </dev/null >/var/log/dockerd.log 2>&1 &
pid=$!
if ! timeout 60 sh -c 'until docker info >/dev/null 2>&1; do sleep 0.5; done'; then
  echo "engine: dockerd did not answer within 60 s; see /var/log/dockerd.log" >&2
  tail -20 /var/log/dockerd.log >&2 || true
  exit 1
fi
echo "engine: dockerd started (pid $pid)" >&2
echo "$pid"
