"""One way to replace a file: a unique temp file in the same folder, fsync, rename over the old one.
Neither a crash, a full disk nor a second writer ever leaves half a file or an empty one.

And one way to write a file only its owner may read (credentials, a kubeconfig, a log that may hold
what redaction missed): `write_private` replaces one whole, `open_private` creates a new one to fill.
Both make the file 0600 before its first byte, so there is no moment when others can read it.

And one way to make or accept the folder such files live in: `private_dir` creates every missing
folder 0700 (never the umask's 0755 first), and refuses a folder another local user owns or may write
to (they could swap or plant files in it). Nothing here follows a symlink planted in such a folder:
temp files are O_EXCL, lock files O_NOFOLLOW, and a rename replaces a link, never its target.

A writer killed between its temp file and the rename leaves the temp behind (a whole copy of the
credentials, for secrets.json). So a temp file's name carries its writer's PID
(`.secrets.json.<pid>-<random>.tmp`), and `sweep_stale_temps` removes those whose writer is no longer
running: never a live writer's, whichever process or thread it is. The state module sweeps the state
dir when it is first used, and every atomic write sweeps the dead copies of the file it replaces."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from gitopslab.errors import LabError

PRIVATE = 0o600
PRIVATE_DIR = 0o700
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows, where there are no other users' symlinks to fear

log = logging.getLogger(__name__)

# `.NAME.<pid>-<8 random>.tmp` (atomic_write's temps); `.NAME.<8 random>.tmp` from gitopslab before the
# PID was in the name, whose writer cannot be asked: removed once older than LEGACY_TEMP_AGE seconds.
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)-[a-z0-9_]{8}\.tmp$")
_LEGACY_TEMP = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp$")
LEGACY_TEMP_AGE = 60.0


def make_dirs(path: Path) -> None:
    """`mkdir -p` where every folder it creates is 0700 from the start (os.makedirs gives the parents
    the umask's mode, 0755: readable by every local user until someone tightens them)."""
    missing = []
    while not path.exists() and not path.is_symlink() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile: checked by the caller
            os.mkdir(folder, PRIVATE_DIR)


def private_dir(path: Path) -> Path:
    """`path` as a folder only this user can write and read: created 0700 (its missing parents too);
    an existing one that others may only read is tightened to 0700 (and said); one that another user
    owns, or that others may write, is refused with the fix, nothing in it read or written."""
    make_dirs(path)
    if sys.platform == "win32":
        return path
    me = os.geteuid()
    try:
        link, info = os.lstat(path), os.stat(path)
    except OSError as exc:
        raise LabError(f"the state folder {path} cannot be used: {exc.strerror}",
                       hint=f"check what is at {path}; move it aside if it is not yours: mv {path} {path}.bak") from exc
    if not stat.S_ISDIR(info.st_mode):
        raise LabError(f"the state folder {path} is not a folder",
                       hint=f"move it aside (nothing is deleted for you): mv {path} {path}.bak")
    for what, st in (("the symlink", link), ("the folder", info)):
        if st.st_uid != me:
            raise LabError(f"the state folder {path} is not yours: {what} belongs to user id {st.st_uid}, "
                           f"not {me}, so its owner could read or swap the lab's credentials",
                           hint=f"use a folder of your own: move this one aside (mv {path} {path}.bak) or set "
                                "GITOPSLAB_STATE_DIR to a folder you own")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise LabError(f"the state folder {path} is writable by other users (mode {mode:04o}): they could plant "
                       "links or files where gitopslab keeps the lab's credentials",
                       hint=f"if the folder is yours and nobody else wrote to it: chmod 700 {path}; otherwise move "
                            f"it aside (mv {path} {path}.bak) and run the command again")
    if mode & 0o077:
        os.chmod(path, PRIVATE_DIR)
        log.warning("%s was mode %04o (readable by others): set to 0700", path, mode)
    return path


def open_lock(path: Path) -> IO[str]:
    """A lock file opened for reading and appending, created 0600; a symlink at `path` is refused
    (OSError ELOOP), never followed to wherever it points."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | NOFOLLOW, PRIVATE)
    try:
        return os.fdopen(fd, "a+", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def writer_alive(pid: int) -> bool:
    """Whether process `pid` is running (a PID reused since only keeps a dead writer's temp longer)."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5  # access denied: it exists (87, no such process: gone)
        try:
            code = ctypes.c_ulong()
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process holds the PID now
        return True
    return True


def sweep_stale_temps(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the temp files in `folder` (of file `name` only, if given) left by writers that died
    before their rename; a running writer's temp is never touched. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no folder yet, or not ours to read: nothing to sweep
        return removed
    for entry in entries:
        if _stale_temp(entry, name):
            with contextlib.suppress(FileNotFoundError):  # another sweeper was first
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    if removed:
        log.debug("removed %d temp file(s) left by writers that died: %s", len(removed),
                  ", ".join(p.name for p in removed))
    return removed


def _stale_temp(entry: os.DirEntry[str], name: str | None) -> bool:
    match = _TEMP.match(entry.name) or _LEGACY_TEMP.match(entry.name)
    if not match or (name is not None and match["name"] != name) or not entry.is_file(follow_symlinks=False):
        return False
    if "pid" in match.groupdict():
        return not writer_alive(int(match["pid"]))
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > LEGACY_TEMP_AGE
    except OSError:
        return False


def atomic_write(path: Path, data: bytes, *, mode: int | None = None, owner: tuple[int, int] | None = None,
                 replace: Callable[[str, Path], None] | None = None) -> None:
    """Write `data` to `path` atomically with `mode` (and `owner` where this process may set it).
    `replace` swaps the finished temp file in (default os.replace). Copies of `path` that killed
    writers left are removed first (sweep_stale_temps)."""
    make_dirs(path.parent)
    sweep_stale_temps(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if owner is not None and hasattr(os, "chown"):
            with contextlib.suppress(PermissionError):
                os.chown(tmp, *owner)
        (replace or os.replace)(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_private(path: Path, data: str | bytes) -> None:
    """Replace `path` atomically (atomic_write) with `data` (text as UTF-8), mode 0600: the temp file
    is created 0600 (mkstemp) before anything is written and renamed whole, so neither the new content
    nor a half of it is ever readable by others, and a file that was looser ends up 0600."""
    atomic_write(path, data.encode("utf-8") if isinstance(data, str) else data, mode=PRIVATE)


def open_private(path: Path, encoding: str = "utf-8") -> IO[str]:
    """A new file at `path`, mode 0600 from its creation, opened for appending text.
    O_EXCL: an existing path, a planted symlink included, is refused (FileExistsError), never reused."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, PRIVATE)
    try:
        return os.fdopen(fd, "a", encoding=encoding)
    except BaseException:
        os.close(fd)
        raise
