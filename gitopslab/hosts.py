"""The lab's block in the hosts file, for hosts where `*.localhost` does not resolve to loopback.

One block per lab, between `# BEGIN gitopslab <lab>` and `# END gitopslab <lab>`; `apply` replaces
it in place (idempotent), `remove` takes it out, and nothing outside the block is touched.
`GITOPSLAB_HOSTS_FILE` points elsewhere (the tests; a user who manages hosts differently).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from gitopslab.errors import LabError
from gitopslab.render.hosts import BEGIN, END, render_block
from gitopslab.topology import Topology


def hosts_file() -> Path:
    if os.environ.get("GITOPSLAB_HOSTS_FILE"):
        return Path(os.environ["GITOPSLAB_HOSTS_FILE"])
    if sys.platform == "win32":
        return Path(os.environ.get("SYSTEMROOT", r"C:\Windows")) / "System32" / "drivers" / "etc" / "hosts"
    return Path("/etc/hosts")


def unresolved(names: list[str]) -> list[str]:
    """Names that do not resolve to a loopback address on this host."""
    missing = []
    for name in names:
        try:
            infos = socket.getaddrinfo(name, None)
        except OSError:
            missing.append(name)
            continue
        addresses = {str(info[4][0]) for info in infos}
        if not any(a == "::1" or a.startswith("127.") for a in addresses):
            missing.append(name)
    return missing


def _without_block(text: str, lab: str) -> tuple[str, bool]:
    begin, end = BEGIN.format(lab=lab), END.format(lab=lab)
    lines, out, inside, found = text.splitlines(keepends=True), [], False, False
    for line in lines:
        stripped = line.strip()
        if stripped == begin:
            inside, found = True, True
            continue
        if inside and stripped == end:
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise LabError(f"{hosts_file()} has `{begin}` without its `{end}` line",
                       hint="edit the file by hand: remove the unfinished gitopslab block")
    return "".join(out), found


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except PermissionError as exc:
        cmd = "run the terminal as Administrator and: gitopslab hosts --apply" if sys.platform == "win32" \
            else "sudo $(command -v gitopslab) hosts --apply"
        raise LabError(f"no permission to write {path}", hint=cmd) from exc


def apply(topo: Topology) -> bool:
    """Write (or refresh) the lab's block. Returns True when the file changed."""
    path = hosts_file()
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    rest, _ = _without_block(current, topo.lab)
    if rest and not rest.endswith("\n"):
        rest += "\n"
    wanted = rest + render_block(topo)
    if wanted == current:
        return False
    _write(path, wanted)
    return True


def remove(lab: str) -> bool:
    path = hosts_file()
    if not path.exists():
        return False
    current = path.read_text(encoding="utf-8")
    rest, found = _without_block(current, lab)
    if found:
        _write(path, rest)
    return found
