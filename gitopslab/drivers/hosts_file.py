"""The lab's block in the hosts file, for hosts where `*.localhost` does not resolve to loopback.

One block per lab, between `# BEGIN gitopslab <lab>` and `# END gitopslab <lab>`; `apply` replaces
it in place (idempotent), `remove` takes it out, and nothing outside the block is touched.
`GITOPSLAB_HOSTS_FILE` points elsewhere (the tests; a user who manages hosts differently).
"""

from __future__ import annotations

import errno
import os
import socket
import stat
import sys
from pathlib import Path

from gitopslab.errors import LabError
from gitopslab.files import atomic_write
from gitopslab.model.topology import Topology
from gitopslab.render.names import BEGIN, END, render_block

DEFAULT_LAB = "gitopslab"


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


def _read(path: Path) -> str:
    """The file as text; bytes that are not UTF-8 survive the round trip (surrogateescape)."""
    return path.read_bytes().decode("utf-8", errors="surrogateescape") if path.exists() else ""


def _write(path: Path, text: str) -> None:
    """Replace the file atomically (files.atomic_write), keeping its mode and owner: a failure at any
    point leaves the old file whole. A symlinked hosts file (macOS) is written through to its target."""
    target = path.resolve()
    old = target.stat() if target.exists() else None
    try:
        atomic_write(target, text.encode("utf-8", errors="surrogateescape"),
                     mode=stat.S_IMODE(old.st_mode) if old else None,
                     owner=(old.st_uid, old.st_gid) if old else None, replace=_replace)
    except PermissionError as exc:
        raise LabError(f"no permission to write {path}", hint=elevated_hint("hosts --apply")) from exc


def _replace(tmp: str, target: Path) -> None:
    try:
        os.replace(tmp, target)
    except OSError as exc:
        # A hosts file bind-mounted into a container cannot be renamed over (EBUSY): write its
        # content in one call instead; the temp file's complete copy stays beside it until then.
        if exc.errno not in (errno.EBUSY, errno.EXDEV):
            raise
        data = Path(tmp).read_bytes()
        with target.open("r+b") as fh:
            fh.write(data)
            fh.truncate()
            fh.flush()
            os.fsync(fh.fileno())
        os.unlink(tmp)


def elevated_hint(args: str) -> str:
    """The command that works with elevated rights: sudo resets PATH, so name the full path."""
    if sys.platform == "win32":
        return f"run the terminal as Administrator and: gitopslab {args}"
    return f'sudo "$(command -v gitopslab)" {args}'


def hosts_apply_args(topo: Topology) -> str:
    """`hosts --apply` with what selects this lab's names: its name and its non-core profiles."""
    args = ["hosts", "--apply"]
    if topo.lab != DEFAULT_LAB:
        args += ["--name", topo.lab]
    for profile in sorted({s.profile for s in topo.services} - {"core", "gpu"}):
        args += ["--profile", profile]
    return " ".join(args)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def apply(topo: Topology) -> bool:
    """Write (or refresh) the lab's block. Returns True when the file changed."""
    path = hosts_file()
    current = _read(path)
    newline = _newline(current)  # a CRLF file (Windows) stays CRLF
    rest, _ = _without_block(current, topo.lab)
    if rest and not rest.endswith("\n"):
        rest += newline
    wanted = rest + render_block(topo).replace("\n", newline)
    if wanted == current:
        return False
    _write(path, wanted)
    return True


def remove(lab: str) -> bool:
    path = hosts_file()
    if not path.exists():
        return False
    current = _read(path)
    rest, found = _without_block(current, lab)
    if found:
        _write(path, rest)
    return found
