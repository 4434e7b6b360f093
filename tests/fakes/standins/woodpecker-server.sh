#!/bin/sh
# Stand-in for woodpecker-server: `ping` like the real binary's healthcheck; refuses placeholder secrets.
set -eu
port="${WOODPECKER_SERVER_ADDR#:}"
if [ "${1:-}" = ping ]; then exec wget -q -O /dev/null "http://127.0.0.1:${port}/healthz"; fi
for v in WOODPECKER_HOST WOODPECKER_GITEA_URL WOODPECKER_GITEA_CLIENT WOODPECKER_GITEA_SECRET WOODPECKER_AGENT_SECRET WOODPECKER_ADMIN; do
  eval "val=\${$v:-}"
  case "$val" in
    "") echo "woodpecker stand-in: $v is required" >&2; exit 1 ;;
    "<secret:"*) echo "woodpecker stand-in: $v is a placeholder" >&2; exit 1 ;;
  esac
done
[ "$WOODPECKER_GITEA" = true ] || { echo "woodpecker stand-in: WOODPECKER_GITEA must be true" >&2; exit 1; }
# The real server keeps its sqlite database here, as uid 1000.
touch /var/lib/woodpecker/woodpecker.sqlite || { echo "woodpecker stand-in: /var/lib/woodpecker not writable by $(id -u)" >&2; exit 1; }
[ -f /srv/www/healthz ] || { echo "stand-in: /srv/www/healthz missing" >&2; exit 1; }
httpd -p 9000 -h /srv/www
echo "woodpecker-server stand-in: listening on :$port, gitea at $WOODPECKER_GITEA_URL"
# As PID 1 a shell ignores SIGTERM unless it traps it: stop promptly like the real service does.
httpd -f -p "$port" -h /srv/www &
trap 'kill $!; exit 0' TERM INT
wait $!
