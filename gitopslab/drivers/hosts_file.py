"""The lab's block in the hosts file, for hosts where `*.localhost` does not resolve to loopback.

One block per lab, between `# BEGIN gitopslab <lab>` and `# END gitopslab <lab>`; `apply` replaces
it in place (idempotent), `remove` takes it out, and nothing outside the block is touched.
`GITOPSLAB_HOSTS_FILE` points elsewhere (the tests; a user who manages hosts differently).
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from gitopslab.errors import LabError
from gitopslab.files import atomic_write
from gitopslab.model.topology import Topology
from gitopslab.render.names import BEGIN, END, render_block

DEFAULT_LAB = "gitopslab"
# A hosts file is a few KiB; a bigger one (or /dev/zero behind GITOPSLAB_HOSTS_FILE) is refused unread.
MAX_BYTES = 4 * 1024 * 1024
# Two `hosts --apply` (labs brought up together) wait for each other this long at most.
LOCK_TIMEOUT = 30.0


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
    """The file as text; bytes that are not UTF-8 survive the round trip (surrogateescape). Only a
    regular file is read, opened non-blocking and checked after opening (a FIFO hung, /dev/zero never
    ended), and at most MAX_BYTES of it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise LabError(f"{path} cannot be read: {exc.strerror}", hint=_path_hint()) from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LabError(f"{path} is not a regular file (a pipe, device or folder): it is not a hosts file",
                           hint=_path_hint())
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise LabError(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MiB, too large for a hosts file",
                       hint=_path_hint())
    return data.decode("utf-8", errors="surrogateescape")


def _path_hint() -> str:
    return "point GITOPSLAB_HOSTS_FILE at the hosts file (or unset it for the system's)"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer of the hosts file at a time, across processes: 12 labs' `hosts --apply` at once kept
    only some of their blocks (each read, then replaced, the file). The lock is on the folder that
    holds the file (the file itself is replaced, so a lock on it would go with the old copy); Windows
    locks a file beside it. Bounded: after LOCK_TIMEOUT it says who to wait for."""
    folder = path.resolve().parent
    try:
        if sys.platform == "win32":
            handle = (folder / f".{path.name}.gitopslab.lock").open("a+b")
            fd = handle.fileno()
        else:
            handle = None
            fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise LabError(f"cannot lock {folder} to write {path}: {exc.strerror}",
                       hint=elevated_hint("hosts --apply")) from exc
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise LabError(f"another gitopslab has been writing {path} for {LOCK_TIMEOUT:.0f} s "
                               f"(awaited: the lock on {folder}; still held)",
                               hint="wait for the other `hosts --apply`/`--remove` to finish, then run this again")
            time.sleep(0.05)
        yield
    finally:
        if handle is not None:
            handle.close()
        else:
            os.close(fd)  # closing releases the lock


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


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
    """The command that works with elevated rights: sudo resets PATH, so name the full path of this
    gitopslab (a `$(command -v gitopslab)` expands to nothing where the venv is not on PATH)."""
    if sys.platform == "win32":
        return f"run the terminal as Administrator and: gitopslab {args}"
    from gitopslab.invocation import absolute

    return f"sudo {absolute()} {args}"


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
    with _locked(path):
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
    with _locked(path):
        current = _read(path)
        rest, found = _without_block(current, lab)
        if found:
            _write(path, rest)
        return found
