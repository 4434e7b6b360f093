"""Pulling an image with its progress: bytes so far, bytes known, rate and an estimate of the time left.

The engine CLI prints no byte counts when its output is not a terminal, so a pull goes to the engine's
own API on its unix socket (Docker's, or Podman's Docker-compatible one), whose `POST /images/create`
streams one JSON line per layer event with `progressDetail: {current, total}`. Where no unix socket can
be found (Docker Desktop's named pipe on Windows, a remote engine), `socket_path()` says None and the
caller pulls through the CLI without byte counts.

    pull(socket, "docker.io/gitea/gitea:1.26.4", on_progress)   # calls on_progress(PullProgress) often
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gitopslab.drivers import proc
from gitopslab.errors import EngineError

STALL_S = 120.0   # the engine said nothing for this long: a stuck registry or network
WHOLE_S = 3600.0  # one image, however slow the venue's network: bounded like every wait


@dataclass
class PullProgress:
    """Where one pull stands. Layers announce their size when their download starts, so `total` grows
    while layers start; the estimate uses the bytes known so far."""

    image: str
    started: float
    layers: dict[str, tuple[int, int]] = field(default_factory=dict)  # layer id -> (current, total)
    finished: bool = False
    now: float = 0.0

    @property
    def done_bytes(self) -> int:
        return sum(cur for cur, _ in self.layers.values())

    @property
    def total_bytes(self) -> int:
        return sum(total for _, total in self.layers.values())

    @property
    def elapsed(self) -> float:
        return max(self.now - self.started, 0.0)

    @property
    def rate(self) -> float:
        """Bytes per second since the pull began."""
        return self.done_bytes / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        left = self.total_bytes - self.done_bytes
        if self.finished or left <= 0:
            return 0.0
        return left / self.rate if self.rate > 0 else None

    def line(self) -> str:
        done, total = _mb(self.done_bytes), _mb(self.total_bytes)
        if self.finished:
            return f"pulled {self.image}: {total} MB in {_clock(self.elapsed)}"
        left = self.seconds_left
        eta = f"about {_clock(left)} left" if left is not None else "estimating"
        return f"pulling {self.image}: {done} of {total} MB, {_mb(self.rate)} MB/s, {eta}"

    def update(self, event: dict[str, object], now: float) -> None:
        """Fold one line of the engine's stream in. Only downloads count (extraction re-reads the same
        bytes); a layer that already exists or has finished downloading counts as whole."""
        self.now = now
        layer, status = str(event.get("id") or ""), str(event.get("status") or "")
        detail = event.get("progressDetail")
        if not layer:
            return
        cur, total = self.layers.get(layer, (0, 0))
        if status == "Downloading" and isinstance(detail, dict):
            total = int(detail.get("total") or total)
            cur = min(int(detail.get("current") or cur), total) if total else int(detail.get("current") or cur)
        elif status in ("Download complete", "Verifying Checksum", "Pull complete", "Extracting") and total:
            cur = total
        self.layers[layer] = (cur, total)


def _mb(n: float) -> str:
    return f"{n / 1_000_000:.1f}"


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60}:{s % 60:02d}"


def socket_path(cli: str, kind: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The engine's unix socket: DOCKER_HOST, else the CLI's current context (Docker) or its remote
    socket (Podman). None when the engine is not reached through a local unix socket."""
    env = os.environ if environ is None else environ
    host = env.get("DOCKER_HOST", "")
    if not host:
        argv = ([cli, "info", "--format", "{{.Host.RemoteSocket.Path}}"] if kind == "podman"
                else [cli, "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"])
        done = proc.run(argv, timeout=15)
        host = done.stdout.strip() if done.ok else ""
    path = host.removeprefix("unix://")
    if not path.startswith("/") or not Path(path).exists():
        return None
    return path


def _split(image: str) -> dict[str, str]:
    """The API pulls every tag when none is named: always name one (or the digest)."""
    if "@" in image:
        name, digest = image.split("@", 1)
        return {"fromImage": name, "tag": digest}
    name, _, tag = image.rpartition(":")
    if name and "/" not in tag:
        return {"fromImage": name, "tag": tag}
    return {"fromImage": image, "tag": "latest"}


def pull(socket: str, image: str, on_progress: Callable[[PullProgress], None],
         clock: Callable[[], float] = time.monotonic, whole_s: float = WHOLE_S,
         stall_s: float = STALL_S) -> PullProgress:
    """Pull `image` through the engine's API, reporting after every event. An error in the stream, an
    engine that stops talking for `stall_s` or a pull past `whole_s` is an EngineError naming the image
    and the last thing the engine said."""
    progress = PullProgress(image, started=clock(), now=clock())
    last = "nothing yet"
    transport = httpx.HTTPTransport(uds=socket)
    timeout = httpx.Timeout(30.0, read=stall_s)
    try:
        with httpx.Client(transport=transport, base_url="http://engine", timeout=timeout) as client, \
                client.stream("POST", "/images/create", params=_split(image)) as response:
            if response.status_code != 200:
                body = response.read().decode(errors="replace")
                raise EngineError(f"the engine refused to pull {image}: {_message(body)}",
                                  hint=f"check the name and the network/proxy, then `docker pull {image}`")
            for raw in response.iter_lines():
                if not raw.strip():
                    continue
                event = json.loads(raw)
                if event.get("error"):
                    raise EngineError(f"pulling {image} failed: {event['error']}",
                                      hint=f"check the network/proxy and run `docker pull {image}`")
                last = " ".join(str(event.get(k)) for k in ("id", "status") if event.get(k))
                progress.update(event, clock())
                if progress.elapsed > whole_s:
                    raise EngineError(f"pulling {image} took more than {whole_s:.0f} s; last seen: {last}",
                                      hint="check the network, or load a bundle (`gitopslab bundle load FILE`)")
                on_progress(progress)
    except httpx.ReadTimeout as exc:
        raise EngineError(f"the engine said nothing for {stall_s:.0f} s while pulling {image}; last seen: {last}",
                          hint=f"check the network/proxy, then run `docker pull {image}` to see it") from exc
    except (httpx.TransportError, ValueError) as exc:
        raise EngineError(f"pulling {image} through the engine's socket {socket} failed: {exc}; last seen: {last}",
                          hint="check the engine with `gitopslab doctor`") from exc
    progress.finished, progress.now = True, clock()
    on_progress(progress)
    return progress


def _message(body: str) -> str:
    try:
        return str(json.loads(body).get("message") or body).strip()
    except ValueError:
        return body.strip()[:300]


# How the tools word a pull that failed, the image named in the first group. k3d wraps the engine's
# answer ("docker failed to pull (the) image '<image>': Error response from daemon: ..."), the docker
# CLI says "Unable to find image '<image>' locally" then the daemon's error, kubelet and containerd
# say `Failed to pull image "<image>"` / `failed to resolve reference "<image>"`.
_PULL_FAILED = [
    re.compile(r"failed to pull (?:the )?image ['\"]([^'\"]+)['\"]", re.IGNORECASE),
    re.compile(r"failed to resolve reference ['\"]([^'\"]+)['\"]", re.IGNORECASE),
    re.compile(r"pull access denied for ([^\s,]+)", re.IGNORECASE),
    re.compile(r"manifest for ([^\s]+) not found", re.IGNORECASE),
    re.compile(r"Unable to find image '([^']+)' locally[\s\S]*?Error response from daemon", re.IGNORECASE),
]
_DAEMON = re.compile(r"Error response from daemon: *(.+)")


@dataclass(frozen=True)
class PullFailure:
    """A tool's output said it could not pull `image`; `reason` is the engine's own words."""

    image: str
    reason: str

    def sentence(self) -> str:
        return f"the engine could not pull the image {self.image}: {self.reason}"

    def hint(self) -> str:
        return (f"check the network or the proxy (`docker pull {self.image}` shows the engine's answer), "
                "then run `gitopslab up` again; in a room without a network: `gitopslab bundle load FILE` "
                "and `gitopslab up --offline`")


def failure_in(text: str) -> PullFailure | None:
    """The first image pull failure a tool's output tells of, or None."""
    for pattern in _PULL_FAILED:
        found = pattern.search(text)
        if not found:
            continue
        rest = text[found.start():]
        daemon = _DAEMON.search(rest)
        line = (daemon.group(1) if daemon else rest.splitlines()[0]).strip()
        return PullFailure(found.group(1), line.strip(' "\''))
    return None
