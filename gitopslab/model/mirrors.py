"""Image references and pull-through mirrors: which upstream registry an image comes from, and the
reference a mirror of that registry serves it under (a distribution registry in proxy mode keeps
the upstream's repository paths, `library/` included for Docker Hub's official images)."""

from __future__ import annotations

from collections.abc import Mapping

# Where `gitopslab mirror up` points each mirror by default (the registries' v2 API endpoints).
UPSTREAMS = {
    "docker.io": "https://registry-1.docker.io",
    "quay.io": "https://quay.io",
    "ghcr.io": "https://ghcr.io",
    "registry.k8s.io": "https://registry.k8s.io",
    "nvcr.io": "https://nvcr.io",
}


def split_ref(ref: str) -> tuple[str, str]:
    """(registry host, repository path with tag or digest), the way Docker reads a reference."""
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "docker.io", ref if rest else f"library/{ref}"


def host_of(url: str) -> str:
    """`http://192.168.1.10:5101` -> `192.168.1.10:5101` (what an image reference starts with)."""
    return url.split("://", 1)[-1].split("/", 1)[0]


def mirror_ref(ref: str, mirrors: Mapping[str, str]) -> str | None:
    """The same image through the mirror of its registry, or None without one."""
    registry, path = split_ref(ref)
    url = mirrors.get(registry)
    return f"{host_of(url)}/{path}" if url else None


def pip_env(index_url: str) -> dict[str, str]:
    """pip through a mirror index; an http index must be named trusted or pip refuses it."""
    if not index_url:
        return {}
    env = {"PIP_INDEX_URL": index_url}
    if index_url.startswith("http://"):
        env["PIP_TRUSTED_HOST"] = host_of(index_url).split(":")[0]
    return env
