"""Ctrl-C for a child process as a terminal gives it, however the test run itself was started."""

from __future__ import annotations

import signal


def ctrl_c_as_at_a_terminal() -> None:
    """A Popen preexec_fn: SIGINT back to its default. A shell's background job (`cmd &` without job
    control: CI scripts, `nohup ... &`) ignores SIGINT, every child inherits that, and Python then installs
    no KeyboardInterrupt handler, so a test that presses Ctrl-C would wait on a child that never hears it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
