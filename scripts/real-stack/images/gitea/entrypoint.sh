#!/bin/sh
# The official image's s6 `setup` + `run`, without s6 or sshd: first start writes app.ini from the
# image's template values, every start applies the GITEA__section__KEY variables, then `gitea web` as git.
set -eu
conf="$GITEA_CUSTOM/conf/app.ini"
mkdir -p "$GITEA_CUSTOM/conf" /data/git
if [ ! -f "$conf" ]; then
  cat >"$conf" <<INI
APP_NAME = Gitea
RUN_MODE = prod

[repository]
ROOT = /data/git/repositories

[server]
APP_DATA_PATH = /data/gitea
HTTP_PORT = 3000

[database]
PATH = /data/gitea/gitea.db
DB_TYPE = sqlite3

[log]
MODE = console
LEVEL = info
ROOT_PATH = /data/gitea/log

[lfs]
PATH = /data/git/lfs
INI
fi
/app/gitea/gitea config edit-ini --config "$conf" --in-place --apply-env
chown -R git:git /data/gitea /data/git
chmod 0755 /data/gitea /data/git
cd /app/gitea
exec setpriv --reuid=1000 --regid=1000 --init-groups env HOME=/data/git /app/gitea/gitea web --config "$conf" "$@"
