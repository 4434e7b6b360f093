"""The one wait helper. Every wait in gitopslab is bounded: its deadline is computed when the wait
starts (never at import), it polls at a configured interval, it treats the listed exceptions as
"not yet" (keeping their text as the last observed state), and on timeout it raises `WaitTimeout`
naming the component, what was awaited, the last observed state, the tail of the component's logs
and the next command to run.

Two things the conductor needs from every wait, wherever it runs (a lane's thread included):
  * `interrupt()` stops it: a wait that sees it raises `Interrupted` within a fraction of a second
    (Ctrl-C reaches only the main thread; the lanes learn of it here), and so does `proc.run`.
  * `active()` says what each running wait awaits and what it last saw, so the face can show it while
    the wait runs (gitopslab/conductor/runner.py reports it at least every 15 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from gitopslab.errors import WaitTimeout

# A probe answers (ready, what it saw); what it saw becomes "last seen" in a timeout message.
Probe = Callable[[], tuple[bool, str]]

_stop = threading.Event()
_lock = threading.Lock()
_active: dict[int, WaitView] = {}  # thread id -> the wait that thread is in


class Interrupted(KeyboardInterrupt):
    """The person pressed Ctrl-C while this ran in a lane: a KeyboardInterrupt, so it is handled (and
    never journaled as a failure) exactly like one raised in the main thread."""


@dataclass
class WaitView:
    """A running wait as the person sees it: what it awaits, what it last saw, for how long."""

    component: str
    awaited: str
    last: str
    started: float
    timeout: float


def interrupt() -> None:
    """Stop every wait and program run, in every thread (Ctrl-C)."""
    _stop.set()


def interrupted() -> bool:
    return _stop.is_set()


def reset() -> None:
    """A new run begins (a process runs `up` once; tests run it many times)."""
    _stop.clear()


def check_interrupted(what: str) -> None:
    if _stop.is_set():
        raise Interrupted(f"interrupted while {what}")


def active() -> dict[int, WaitView]:
    """The waits running now, by thread id (a copy)."""
    with _lock:
        return dict(_active)


def _pause(seconds: float) -> None:
    _stop.wait(seconds)  # time.sleep, but over at once on interrupt()


class ComponentTimeout(WaitTimeout):
    """A WaitTimeout that keeps its parts, for callers (doctor, tests) that want them separately."""

    def __init__(self, component: str, awaited: str, last_state: str, logs: str, next_command: str,
                 seconds: float) -> None:
        self.component, self.awaited, self.last_state, self.logs = component, awaited, last_state, logs
        message = f"{component}: {awaited} not reached within {seconds:.0f} s; last seen: {last_state}"
        if logs.strip():
            tail = "\n".join(f"    | {line}" for line in logs.rstrip().splitlines())
            message += f"\n  last log lines of {component}:\n{tail}"
        super().__init__(message, hint=next_command)


def until(
    probe: Probe,
    *,
    component: str,
    awaited: str,
    timeout: float,
    interval: float,
    next_command: str,
    logs: Callable[[], str] | None = None,
    transient: tuple[type[BaseException], ...] = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Poll `probe` until it is ready; return what it last saw. Raises ComponentTimeout, or
    Interrupted after `interrupt()`."""
    pause = _pause if sleep is time.sleep else sleep  # an injected clock's sleep stays the test's
    deadline = clock() + timeout
    view = WaitView(component, awaited, "not checked yet", time.monotonic(), timeout)
    me = threading.get_ident()
    with _lock:
        _active[me] = view
    try:
        while True:
            check_interrupted(f"waiting for {component}: {awaited}")
            try:
                ready, view.last = probe()
            except transient as exc:
                ready, view.last = False, f"{type(exc).__name__}: {exc}"
            if ready:
                return view.last
            remaining = deadline - clock()
            if remaining <= 0:
                tail = logs() if logs else ""
                raise ComponentTimeout(component, awaited, view.last, tail, next_command, timeout)
            pause(min(interval, remaining))
    finally:
        with _lock:
            _active.pop(me, None)
