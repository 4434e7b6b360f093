#!/bin/sh
# A tiny image from busybox-static: starts in milliseconds. Stand-in services in the engine tests use it.
set -eu
tag="${1:-gitopslab-busybox:latest}"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "busybox image: $tag exists" >&2
  exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/www" "$root/data"
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
tar --numeric-owner -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' - "$tag" >/dev/null
echo "busybox image: built $tag" >&2
