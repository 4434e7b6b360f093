"""The one way to reach a lab service from the host: its published port on 127.0.0.1, with the lab
name in the Host header. Lab names (`*.localhost`) do not resolve through getaddrinfo on every host
(docs/ARCHITECTURE.md, split-horizon names), so nothing in gitopslab asks the host's resolver."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

if TYPE_CHECKING:
    from gitopslab.model.topology import Service


def request(svc: Service, path: str | None = None, method: str = "GET", timeout: float = 5.0,
            **kwargs: Any) -> httpx.Response:
    """`method` on `path` (default: the service's health path) of `svc`, sent to 127.0.0.1."""
    headers = {"Host": svc.address, **kwargs.pop("headers", {})}
    url = f"http://127.0.0.1:{svc.port}{svc.health_path if path is None else path}"
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        return client.request(method, url, headers=headers, **kwargs)


def dial_target(url: str) -> tuple[str, dict[str, str]]:
    """The URL to connect to and the headers to send: lab names go to 127.0.0.1, Host kept."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        netloc = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc)), {"Host": parts.netloc}
    return url, {}
