"""Print the content digest (sha256:...) the registry holds for REPO:TAG, asked once after the build.

The scan and update-gitops steps then use that digest, so the image Argo CD runs is the image trivy
scanned even if someone pushes the same tag again. The kaniko plugin has no setting that writes the
digest it pushed, hence this lookup. Usage: registry_digest.py REGISTRY REPO TAG (plain HTTP: the lab's
registry).
"""

from __future__ import annotations

import hashlib
import re
import sys
import urllib.request

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def digest(registry: str, repo: str, tag: str) -> str:
    url = f"http://{registry}/v2/{repo}/manifests/{tag}"
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the lab's registry URL)
        body = response.read()
        said = response.headers.get("Docker-Content-Digest", "")
    found = "sha256:" + hashlib.sha256(body).hexdigest()
    if said and said != found:
        raise SystemExit(f"digest: {url} says {said} but its manifest hashes to {found}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: registry_digest.py REGISTRY REPO TAG", file=sys.stderr)
        return 2
    try:
        value = digest(*argv)
    except OSError as exc:
        print(f"digest: cannot read the manifest of {argv[1]}:{argv[2]} from {argv[0]}: {exc}", file=sys.stderr)
        return 1
    assert DIGEST.fullmatch(value)
    print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
