#!/bin/sh
# What the official image's /usr/local/bin/gitea does: the docker defaults for work dir and custom path.
GITEA_WORK_DIR="${GITEA_WORK_DIR:-/data/gitea}" GITEA_CUSTOM="${GITEA_CUSTOM:-/data/gitea}" \
  exec /app/gitea/gitea "$@"
