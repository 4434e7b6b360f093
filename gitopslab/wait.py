"""The one wait helper. Every wait in gitopslab is bounded: its deadline is computed when the wait
starts (never at import), it polls at a configured interval, it treats the listed exceptions as
"not yet" (keeping their text as the last observed state), and on timeout it raises `WaitTimeout`
naming the component, what was awaited, the last observed state, the tail of the component's logs
and the next command to run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gitopslab.errors import WaitTimeout

# A probe answers (ready, what it saw); what it saw becomes "last seen" in a timeout message.
Probe = Callable[[], tuple[bool, str]]


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
    """Poll `probe` until it is ready; return what it last saw. Raises ComponentTimeout."""
    deadline = clock() + timeout
    last = "not checked yet"
    while True:
        try:
            ready, last = probe()
        except transient as exc:
            ready, last = False, f"{type(exc).__name__}: {exc}"
        if ready:
            return last
        remaining = deadline - clock()
        if remaining <= 0:
            tail = logs() if logs else ""
            raise ComponentTimeout(component, awaited, last, tail, next_command, timeout)
        sleep(min(interval, remaining))
