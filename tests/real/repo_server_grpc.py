"""One unary call to Argo CD's repo-server over gRPC, as the application controller makes it: HTTP/2 over
the TLS the repo-server sets up itself (its self-signed certificate: not verified, as Argo CD's own
clients do not verify it without a CA), a length-prefixed protobuf message.

The messages are written by hand in protobuf's wire format, with the field numbers of Argo CD v3.6.1's
reposerver/repository/repository.proto and pkg/apis/application/v1alpha1/generated.proto (named at
each message below), so the test needs no generated code.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

import httpx

SERVICE = "repository.RepoServerService"


class GrpcError(RuntimeError):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"grpc-status {status}: {message}")
        self.status, self.message = status, message


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num: int, value: str | bytes | bool) -> bytes:
    if isinstance(value, bool):
        return _varint(num << 3) + _varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def decode(data: bytes) -> dict[int, list[bytes | int]]:
    """Field number -> its values (bytes for length-delimited fields, int for varints)."""
    out: dict[int, list[bytes | int]] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        shift = result = 0
        while True:
            byte = data[i]
            i += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result

    while i < len(data):
        key = varint()
        num, wire = key >> 3, key & 7
        value: bytes | int
        if wire == 0:
            value = varint()
        elif wire == 2:
            size = varint()
            value, i = data[i:i + size], i + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, i = data[i:i + size], i + size
        else:
            raise ValueError(f"wire type {wire} at byte {i}")
        out.setdefault(num, []).append(value)
    return out


@dataclass(frozen=True)
class Repo:
    url: str
    username: str
    password: str

    def message(self) -> bytes:
        # v1alpha1.Repository: repo = 1, username = 2, password = 3, type = 11
        return field(1, self.url) + field(2, self.username) + field(3, self.password) + field(11, "git")


def manifest_request(repo: Repo, path: str, revision: str, app: str) -> bytes:
    # v1alpha1.ApplicationSource: repoURL = 1, path = 2, targetRevision = 4
    source = field(1, repo.url) + field(2, path) + field(4, revision)
    # repository.ManifestRequest: repo = 1, revision = 2, noCache = 3, appLabelKey = 4, appName = 5,
    # namespace = 8, applicationSource = 10, projectSourceRepos = 24, projectName = 25
    return (field(1, repo.message()) + field(2, revision) + field(3, True) + field(4, "app.kubernetes.io/instance")
            + field(5, app) + field(8, "default") + field(10, source) + field(24, "*") + field(25, "default"))


@dataclass(frozen=True)
class Manifests:
    manifests: list[str]
    revision: str


def generate_manifest(address: str, request: bytes, timeout: float = 120.0) -> Manifests:
    """RepoServerService/GenerateManifest at `address` (host:port); raises GrpcError with its message."""
    body = b"\x00" + len(request).to_bytes(4, "big") + request
    with httpx.Client(http2=True, verify=False, timeout=timeout) as client:  # noqa: S501 (its own self-signed cert)
        resp = client.post(f"https://{address}/{SERVICE}/GenerateManifest", content=body,
                           headers={"content-type": "application/grpc", "te": "trailers"})
    status = resp.headers.get("grpc-status", "0")  # an error comes as a trailers-only answer: in the headers
    if resp.status_code != 200 or status != "0":
        raise GrpcError(status, urllib.parse.unquote(resp.headers.get("grpc-message", resp.text[:500])))
    data = resp.content
    size = int.from_bytes(data[1:5], "big")
    fields = decode(data[5:5 + size])
    # repository.ManifestResponse: manifests = 1, revision = 4
    return Manifests([bytes(m).decode() for m in fields.get(1, []) if isinstance(m, bytes)],
                     bytes(fields.get(4, [b""])[0]).decode() if isinstance(fields.get(4, [b""])[0], bytes) else "")
