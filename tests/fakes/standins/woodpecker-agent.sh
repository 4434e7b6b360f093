#!/bin/sh
# Stand-in for woodpecker-agent: health on :3000 like the real one; needs the docker socket and lab network.
set -eu
if [ "${1:-}" = ping ]; then exec wget -q -O /dev/null "http://127.0.0.1:3000/healthz"; fi
for v in WOODPECKER_SERVER WOODPECKER_AGENT_SECRET WOODPECKER_BACKEND_DOCKER_NETWORK; do
  eval "val=\${$v:-}"
  [ -n "$val" ] || { echo "agent stand-in: $v is required" >&2; exit 1; }
done
[ "$WOODPECKER_BACKEND" = docker ] || { echo "agent stand-in: WOODPECKER_BACKEND must be docker" >&2; exit 1; }
[ -S /var/run/docker.sock ] || { echo "agent stand-in: no docker socket" >&2; exit 1; }
[ -f /srv/www/healthz ] || { echo "stand-in: /srv/www/healthz missing" >&2; exit 1; }
echo "woodpecker-agent stand-in: server $WOODPECKER_SERVER, steps on $WOODPECKER_BACKEND_DOCKER_NETWORK"
# As PID 1 a shell ignores SIGTERM unless it traps it: stop promptly like the real service does.
httpd -f -p 3000 -h /srv/www &
trap 'kill $!; exit 0' TERM INT
wait $!
