#!/bin/sh
# Stand-in for Gitea in the engine tests: the settings compose passes, the port and health path Gitea serves.
set -eu
for v in GITEA__security__INSTALL_LOCK GITEA__server__ROOT_URL GITEA__server__HTTP_PORT GITEA__webhook__ALLOWED_HOST_LIST; do
  eval "val=\${$v:-}"
  [ -n "$val" ] || { echo "gitea stand-in: $v is required" >&2; exit 1; }
done
[ "$GITEA__security__INSTALL_LOCK" = true ] || { echo "gitea stand-in: INSTALL_LOCK must be true" >&2; exit 1; }
mkdir -p /data/gitea /www/api
echo '{"status":"pass"}' >/www/api/healthz
echo "gitea stand-in: listening on :$GITEA__server__HTTP_PORT, ROOT_URL $GITEA__server__ROOT_URL"
# As PID 1 a shell ignores SIGTERM unless it traps it: stop promptly like the real service does.
httpd -f -p "$GITEA__server__HTTP_PORT" -h /www &
trap 'kill $!; exit 0' TERM INT
wait $!
