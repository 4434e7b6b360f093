"""Where gitopslab's log records go, always with secrets redacted.

    configure(verbose)        stderr: warnings; with -v every debug line (each command run, each HTTP call)
    to_file(state, verb)      <state>/logs/<verb>-<UTC time>.log, mode 0600, every debug line, for the
                              whole command (`up`, `down`, `destroy`); `doctor --bundle` collects these

Redaction happens in the formatter, so no handler can skip it: the values in the lab's secrets file
(re-read when it changes: tokens minted during `up` land there), and anything shaped like a credential
(`password=...`, `Authorization: Bearer ...`, `https://user:password@`). So does terminal_text.clean:
control sequences quoted from outside text are written as visible `\\xNN`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gitopslab.errors import redact
from gitopslab.files import open_private, private_dir
from gitopslab.terminal_text import clean

# Loggers that carry the lab's work: ours, httpx (one INFO line per HTTP call, every client), and
# python-on-whales (one DEBUG line per docker/compose command).
LOGGERS = ("gitopslab", "httpx", "python_on_whales")
_MARK = "_gitopslab_handler"
_secret_files: list[Path] = []
_cache: dict[Path, tuple[float, list[str]]] = {}


def _secret_values() -> list[str]:
    values: list[str] = []
    for path in list(_secret_files):
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            continue
        cached = _cache.get(path)
        if cached is None or cached[0] != mtime:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                cached = (mtime, [str(v) for v in data.values() if v] if isinstance(data, dict) else [])
            except (OSError, ValueError):
                cached = (mtime, [])
            _cache[path] = cached
        values += cached[1]
    return values


def redacted_text(text: str) -> str:
    """`text` as every handler writes it: the watched labs' secrets and credential shapes redacted, control
    sequences made visible."""
    return clean(redact(text, _secret_values()))


def redacted_traceback(exc: BaseException) -> str:
    import traceback

    return redacted_text("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


class RedactingFormatter(logging.Formatter):
    """Redacted, and outside text's control sequences shown as `\\xNN` (terminal_text.clean): a line
    quoting a container's or a cluster's words reaches stderr, or a log someone `cat`s, inert."""

    def format(self, record: logging.LogRecord) -> str:
        return redacted_text(super().format(record))


class _TerseFormatter(RedactingFormatter):
    """`warning: ...` / `error: ...`, as the CLI words its own messages."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {super().format(record)}"

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redacted_text(super().formatException(ei))


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """stderr as it is when a line is written (tests and tools swap sys.stderr), not when set up."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _own(handler: logging.Handler) -> logging.Handler:
    setattr(handler, _MARK, True)
    return handler


def _attach(handler: logging.Handler) -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


def configure(verbose: bool) -> None:
    """The stderr handler for this process (idempotent: a second call replaces the first)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for h in [h for h in logger.handlers if getattr(h, _MARK, False)]:
            logger.removeHandler(h)
            h.close()
    _secret_files.clear()
    stderr = _own(_CurrentStderr())
    stderr.setLevel(logging.DEBUG if verbose else logging.WARNING)
    stderr.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s") if verbose
                        else _TerseFormatter("%(message)s"))
    _attach(stderr)
    # httpx's own line is INFO; without -v it must not reach the terminal (the handler level filters).


def watch_secrets(secrets_file: Path) -> None:
    """Redact this lab's credentials from every handler from now on."""
    if secrets_file not in _secret_files:
        _secret_files.append(secrets_file)


def _new_log_file(folder: Path, verb: str) -> Path:
    """Create the log file: new (O_EXCL) and 0600 before a byte is written (the handler appends).
    The name is claimed by the create itself, not by a look first: two commands started in the same
    second both saw the same free name and one died with FileExistsError."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for n in range(1, 1000):
        path = folder / (f"{verb}-{stamp}.log" if n == 1 else f"{verb}-{stamp}-{n}.log")
        try:
            open_private(path).close()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{folder}: 999 {verb} logs in one second")


@contextlib.contextmanager
def to_file(state: Any, verb: str) -> Iterator[Path]:
    """Log everything the command does to a new 0600 file in the lab's state dir."""
    private_dir(Path(state.dir))  # often the first to make the state dir: 0700, and refused if not the user's
    folder = private_dir(Path(state.dir) / "logs")
    path = _new_log_file(folder, verb)
    watch_secrets(Path(state.secrets_file))
    handler = _own(logging.FileHandler(path, encoding="utf-8"))
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _attach(handler)
    logging.getLogger("gitopslab").debug("gitopslab %s: log started (%s)", verb, path)
    try:
        yield path
    except BaseException as exc:  # the log a bundle collects keeps how the command ended, traceback included
        logger = logging.getLogger("gitopslab")  # into this file only: -v prints its own traceback on stderr
        handler.handle(logger.makeRecord(logger.name, logging.DEBUG, __file__, 0, "gitopslab %s ended by %s",
                                         (verb, type(exc).__name__), sys.exc_info()))
        raise
    finally:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(handler)
        handler.close()
