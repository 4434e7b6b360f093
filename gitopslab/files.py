"""One way to replace a file: a unique temp file in the same folder, fsync, rename over the old one.
Neither a crash, a full disk nor a second writer ever leaves half a file or an empty one.

And one way to write a file only its owner may read (credentials, a kubeconfig, a log that may hold
what redaction missed): `write_private` replaces one whole, `open_private` creates a new one to fill.
Both make the file 0600 before its first byte, so there is no moment when others can read it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

PRIVATE = 0o600


def atomic_write(path: Path, data: bytes, *, mode: int | None = None, owner: tuple[int, int] | None = None,
                 replace: Callable[[str, Path], None] | None = None) -> None:
    """Write `data` to `path` atomically with `mode` (and `owner` where this process may set it).
    `replace` swaps the finished temp file in (default os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
