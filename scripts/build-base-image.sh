#!/bin/sh
# Build the Python-capable base image from Debian packages (no registry needed). Cached: skipped when
# the tag exists. Used by the tests and by the offline hello-api build (BASE_IMAGE build arg).
set -eu
tag="${1:-gitopslab-base:bookworm}"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image: $tag exists" >&2
  exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
echo "base image: debootstrap bookworm into $root (about a minute)" >&2
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
  bookworm "$root" http://deb.debian.org/debian >/tmp/gitopslab-debootstrap.log 2>&1 || {
  tail -20 /tmp/gitopslab-debootstrap.log >&2; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
# Containers reach PyPI only with the host's CA bundle.
cp /etc/ssl/certs/ca-certificates.crt "$root"/etc/ssl/certs/ca-certificates.crt
tar --numeric-owner -C "$root" -c . | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["python3"]' - "$tag" >/dev/null
echo "base image: built $tag" >&2
