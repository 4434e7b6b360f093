#!/bin/sh
# CI step "build-proxy" (rendered by gitopslab only behind a proxy): the proxy variables, both cases,
# into PROXY_ENV_FILE for the build step. plugin-kaniko exports that file's lines before kaniko runs
# (its `env_file`) and hands the names to RUN as build args (`build_args_from_env`): kaniko gives RUN
# no variable of its own environment. The file is 0600, in the workspace only: .dockerignore keeps it
# out of the build context. One NAME=value a line, no blank line (plugin.sh exports each line).
set -eu
cd "$(dirname "$0")/../.."
out="${PROXY_ENV_FILE:-.proxy.env}"
umask 077
: >"$out"
for name in HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  value=$(printenv "$name" || true)
  if [ -n "$value" ]; then
    lower=$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]')
    printf '%s=%s\n%s=%s\n' "$name" "$value" "$lower" "$value" >>"$out"
  fi
done
echo "build-proxy: $(cut -d= -f1 "$out" | tr '\n' ' ')written to $out"
