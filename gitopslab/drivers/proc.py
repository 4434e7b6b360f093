"""The one process boundary of gitopslab: every program it runs (k3d, kubectl, git, nvidia-smi, the
engine CLI) goes through `run()`; python-on-whales is the other door, for the engine itself. It logs
the command at debug level (never stdin, which is where secrets travel) and returns what the process
said; the wrappers (`drivers.kube`, `drivers.k3d`, `drivers.git`) choose the error from stderr. Tests
replace only this function (or pass another `Runner`), so everything above it runs for real. `call()`
is the one exception to capturing: a command attached to the terminal (`gitopslab logs -f`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitopslab import wait
from gitopslab.errors import LabError, ToolError, redact

log = logging.getLogger("gitopslab.drivers.proc")


class NotFound(ToolError):
    """The program is not installed (a `ToolError`; the cause is the OSError)."""


class TimedOut(ToolError):
    """The program ran past its timeout and was killed (a `ToolError`); callers may word their own."""


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def last_error_line(self) -> str:
        lines = [ln.strip() for ln in (self.stderr or self.stdout).splitlines() if ln.strip()]
        return lines[-1] if lines else f"exit status {self.returncode}, no output"


def tool_error(what: str, result: Completed, known: Sequence[tuple[str, type[LabError], str]],
               secrets: Sequence[str] = ()) -> LabError:
    """The most specific error for a failed tool command: the first known stderr fragment picks the
    kind and its hint; the message ends with the tool's last line of output, secrets redacted."""
    text = redact(result.stderr or result.stdout, secrets)
    last = redact(result.last_error_line(), secrets)
    for fragment, kind, hint in known:
        if fragment.lower() in text.lower():
            return kind(f"{what} failed: {last}", hint=hint)
    return ToolError(f"{what} failed: {last}", hint="run `gitopslab doctor`; add --verbose to see every command")


# Anything with run()'s signature: run(argv, *, input=None, timeout=None, env=None) -> Completed.
Runner = Callable[..., Completed]


def run(
    argv: Sequence[str],
    *,
    input: str | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    inherit_env: bool = True,
) -> Completed:
    """Run `argv`, capture its output as text. A missing binary is `NotFound`, a timeout `TimedOut`
    (both `ToolError`s); a non-zero exit is returned to the caller, which knows what the tool's
    messages mean. `env` is added to this process's environment, or with `inherit_env=False` is
    the whole of it (git must not see the user's GIT_* variables)."""
    shown = shlex.join(argv)
    # Secrets in argv are masked by the log formatter (gitopslab.logsetup); stdin is never logged.
    log.debug("run: %s%s", shown, f"  (stdin: {len(input)} bytes)" if input else "")
    started = time.monotonic()
    full_env = None
    if env is not None:
        full_env = {**os.environ, **env} if inherit_env else dict(env)
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE if input is not None else None,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, cwd=cwd)
    except FileNotFoundError as exc:
        raise _not_found(argv) from exc
    try:
        stdout, stderr = _communicate(proc, input, timeout, shown)
    except subprocess.TimeoutExpired as exc:
        raise TimedOut(f"`{shown}` did not finish within {timeout:.0f} s",
                       hint="check the engine and the cluster with `gitopslab doctor`, then run again") from exc
    done = Completed(tuple(argv), proc.returncode, stdout or "", stderr or "")
    took = time.monotonic() - started
    if done.ok:
        log.debug("exit 0 (%.1f s): %s", took, shown)
    else:
        log.debug("exit %s (%.1f s): %s: %s", proc.returncode, took, shown, done.last_error_line())
    return done


def _communicate(proc: subprocess.Popen[str], input: str | None, timeout: float | None,
                 shown: str) -> tuple[str, str]:
    """subprocess.run's communicate, in slices, so that Ctrl-C (`wait.interrupt()`, seen in a lane's
    thread, where no signal arrives) ends the program within a fraction of a second. The program is
    killed on any way out but its own exit, as subprocess.run does."""
    deadline = None if timeout is None else time.monotonic() + timeout
    if input is not None and proc.stdin is not None:
        # Fed by a thread of its own, not by communicate(): a communicate() that timed out cannot be
        # retried with the input (ValueError "Cannot send input after starting communication") nor
        # without it (the rest is never written and the program waits for it forever).
        stdin, proc.stdin = proc.stdin, None
        threading.Thread(target=_feed, args=(stdin, input), daemon=True, name="proc-stdin").start()
    try:
        while True:
            slice_s = _SLICE if deadline is None else max(min(_SLICE, deadline - time.monotonic()), 0.0)
            try:
                return proc.communicate(None, timeout=slice_s)
            except subprocess.TimeoutExpired:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                wait.check_interrupted(f"running `{shown}`")
    except BaseException:
        proc.kill()
        proc.communicate()
        raise


def _feed(stdin: Any, text: str) -> None:
    """Write a program's input and close its stdin; a program that exits without reading it all is
    its own business (its exit status says so), not a traceback here."""
    with contextlib.suppress(ValueError, OSError):  # BrokenPipeError is an OSError
        stdin.write(text)
    with contextlib.suppress(OSError):
        stdin.close()


_SLICE = 0.25  # seconds between two looks at the interrupt flag while a program runs


def call(argv: Sequence[str], through: Callable[[str], None] | None = None) -> int:
    """Run `argv` attached to this terminal until it exits; its exit status. With `through`, its
    stdout is not the terminal's: each line it writes (as it comes) goes to `through`, which cleans
    what a container said (`gitopslab logs -f`). Ctrl-C kills it and propagates."""
    log.debug("call: %s", shlex.join(argv))
    try:
        if through is None:
            return subprocess.call(list(argv))
        program = subprocess.Popen(list(argv), stdout=subprocess.PIPE, text=True, encoding="utf-8",
                                   errors="replace")
    except FileNotFoundError as exc:
        raise _not_found(argv) from exc
    try:
        assert program.stdout is not None
        for line in program.stdout:
            through(line)
        return program.wait()
    finally:
        if program.poll() is None:  # Ctrl-C, or `through` failed (a closed pipe): the program goes too
            program.kill()
            program.wait()


def _not_found(argv: Sequence[str]) -> NotFound:
    return NotFound(f"`{argv[0]}` is not installed or not on PATH",
                    hint=f"gitopslab tools install {os.path.basename(argv[0])}")
