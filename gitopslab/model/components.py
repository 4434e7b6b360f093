"""The compose layer's services: the groups `up` starts and watches, and per service the topology
service behind its URL, the image role it runs and the image roles it brings with it (pulled with
the lab, bundled for a room)."""

from __future__ import annotations

CORE = ("gitea", "registry")
WOODPECKER = ("woodpecker-server", "woodpecker-agent")
EDGE = ("edge",)
ONE_SHOT = ("woodpecker-volume-init",)  # runs to completion before the server; not a service to watch
EXPECTED = CORE + WOODPECKER
# compose service -> (topology service key for its URL, or None; image role; other image roles it uses)
COMPONENTS: dict[str, tuple[str | None, str, tuple[str, ...]]] = {
    "gitea": ("gitea", "gitea", ()),
    "registry": ("registry", "registry", ()),
    "woodpecker-server": ("woodpecker", "woodpecker-server", ("gitea",)),  # the volume-init uses Gitea's
    # The agent runs the clone plugin and the pipelines' step images: pulled with the lab (through the
    # room's mirrors, with progress; offline, named when the bundle lacks one), not at the first push.
    "woodpecker-agent": (None, "woodpecker-agent", ("clone", "python", "kaniko", "trivy", "alpine-git")),
    "edge": (None, "edge", ()),
}
