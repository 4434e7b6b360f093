"""A Helm chart published only as an OCI artifact (KServe's: ghcr.io/kserve/charts/<name>:<version>), pulled
for the bundle the way `helm pull oci://...` pulls it, over the OCI distribution API, with no helm:

    GET /v2/<repository>/<name>/manifests/<version>   (Accept: the OCI image manifest) -> the chart layer
    GET /v2/<repository>/<name>/blobs/<digest>        the package; its sha256 must be the layer's digest

A registry that wants a token (ghcr.io, even for public packages) first answers 401 with
`WWW-Authenticate: Bearer realm=...,service=...,scope=...`; the anonymous token its realm hands out is sent
on the retry. A repository without a scheme is HTTPS, as Argo CD and helm read it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx

from gitopslab.errors import LabError

CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


def split(repo: str) -> tuple[str, str]:
    """`ghcr.io/kserve/charts` -> (`https://ghcr.io`, `kserve/charts`); an explicit scheme is kept."""
    scheme, sep, rest = repo.partition("://")
    if not sep:
        scheme, rest = "https", repo
    host, _, path = rest.partition("/")
    return f"{scheme}://{host}", path.strip("/")


def _token(client: httpx.Client, challenge: str) -> str:
    fields = dict(_CHALLENGE.findall(challenge))
    if not challenge.lower().startswith("bearer") or "realm" not in fields:
        raise LabError(f"the registry asks for a login this bundle cannot give ({challenge!r})",
                       hint="KServe's charts are public: check the network or proxy between here and the registry")
    params = {k: v for k, v in fields.items() if k in ("service", "scope")}
    answer = client.get(fields["realm"], params=params)
    answer.raise_for_status()
    body = answer.json()
    return str(body.get("token") or body.get("access_token") or "")


def _get(client: httpx.Client, url: str, headers: dict[str, str]) -> httpx.Response:
    answer = client.get(url, headers=headers, follow_redirects=True)
    if answer.status_code == 401 and "Authorization" not in headers:
        headers["Authorization"] = f"Bearer {_token(client, answer.headers.get('WWW-Authenticate', ''))}"
        answer = client.get(url, headers=headers, follow_redirects=True)
    answer.raise_for_status()
    return answer


def pull(client: httpx.Client, repo: str, name: str, version: str, dest: Path) -> str:
    """The chart `repo/name:version` into `dest`; its sha256 (the layer's digest, checked)."""
    base, path = split(repo)
    where = f"{base}/v2/{path}/{name}" if path else f"{base}/v2/{name}"
    ref = f"{repo}/{name}:{version}"
    headers = {"Accept": MANIFEST}
    try:
        manifest = _get(client, f"{where}/manifests/{version}", headers).json()
        layers = [layer for layer in manifest.get("layers") or [] if layer.get("mediaType") == CHART_LAYER]
        if not layers:
            raise LabError(f"{ref} is not a Helm chart: its manifest has no {CHART_LAYER} layer",
                           hint="check the chart's repository and version in versions.py")
        digest = str(layers[0]["digest"])
        headers["Accept"] = "*/*"
        content = _get(client, f"{where}/blobs/{digest}", headers).content
    except httpx.HTTPStatusError as exc:
        raise LabError(f"pulling the chart {ref} failed: HTTP {exc.response.status_code} from {exc.request.url}",
                       hint="check the chart's repository and version in versions.py, and the network/proxy") from exc
    except httpx.HTTPError as exc:
        raise LabError(f"pulling the chart {ref} failed: {exc}",
                       hint="check the network/proxy, or pass --files-from DIR with the package in it") from exc
    actual = "sha256:" + hashlib.sha256(content).hexdigest()
    if actual != digest:
        raise LabError(f"{ref}: the package has digest {actual}, but its manifest names {digest}",
                       hint="the download was changed on the way (a proxy?); run `bundle save` again")
    dest.write_bytes(content)
    return actual.removeprefix("sha256:")
