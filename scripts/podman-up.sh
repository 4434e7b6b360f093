#!/bin/sh
# Start Podman's Docker-compatible API service for the Podman tests (tests/real/test_podman_forge.py),
# rootful, on the socket the tests use. Prints the service's PID (empty when it already answered) on
# the last line, so the caller stops it by PID, like dockerd in scripts/engine-up.sh.
#
# Usage: scripts/podman-up.sh SOCKET CONTAINERS_CONF
#
# The containers.conf written here is for THIS SANDBOX, not for the product: the test machine refuses
# Podman's default rlimits ("error setting rlimit type 7 (then 6): operation not permitted") until a
# container's nofile and nproc limits lie within the sandbox's hard limits. A laptop needs none of it.
# Callers export CONTAINERS_CONF=CONTAINERS_CONF too, so the podman CLI reads the same settings.
set -eu
socket=${1:-/run/podman/podman.sock}
conf=${2:-/run/podman/containers.conf}

if ! command -v podman >/dev/null 2>&1; then
  echo "podman: not installed (scripts/test.sh installs Debian's podman)" >&2
  exit 1
fi
mkdir -p "$(dirname "$socket")" "$(dirname "$conf")"
if [ ! -f "$conf" ]; then
  cat >"$conf" <<'CONF'
# Written by scripts/podman-up.sh for the test sandbox only (its hard rlimits), not for the product.
[containers]
# Soft = hard: Podman 4.3's Docker-compatible API swaps a default ulimit's soft and hard values
# (soft 20000 > hard 1024: "setting rlimit type 7: invalid argument"); equal values survive that.
default_ulimits = ["nofile=20000:20000", "nproc=1024:1024"]
# netavark + aardvark-dns: the only network stack of Podman 5, and the one that answers the lab's
# network aliases by DNS (CNI needs the separate dnsname plugin for that).
[network]
network_backend = "netavark"
CONF
fi
export CONTAINERS_CONF="$conf"

if curl -fsS --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; then
  echo "podman: service already answering on $socket" >&2
  echo ""
  exit 0
fi
rm -f "$socket"
# All three streams redirected: a service holding the test run's stdout would hang whatever waits on it.
setsid nohup podman system service --time=0 "unix://$socket" </dev/null >/var/log/podman-service.log 2>&1 &
pid=$!
if ! timeout 60 sh -c "until curl -fsS --unix-socket '$socket' http://d/_ping >/dev/null 2>&1; do sleep 0.5; done"; then
  echo "podman: the service did not answer on $socket within 60 s; see /var/log/podman-service.log" >&2
  tail -20 /var/log/podman-service.log >&2 || true
  exit 1
fi
echo "podman: service started on $socket (pid $pid, $(podman version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))" >&2
echo "$pid"
