"""A program fed on stdin that runs longer than one slice of proc.run's wait (0.25 s) gets all of its
input and its output comes back: the retried communicate() no longer hands the input a second time
(which raised ValueError "Cannot send input after starting communication"; found by the real cluster
tier, where `kubectl apply -f -` against a real API server takes longer than a slice)."""

from __future__ import annotations

import sys

from gitopslab.drivers import proc


def test_stdin_reaches_a_program_slower_than_one_slice() -> None:
    text = "x" * 200_000 + "\n"  # more than a pipe's buffer, written across slices
    script = "import sys, time; time.sleep(0.8); data = sys.stdin.read(); print(len(data))"
    done = proc.run([sys.executable, "-c", script], input=text, timeout=30)
    assert done.ok, done.stderr
    assert done.stdout.strip() == str(len(text))
