"""`kubectl kustomize DIR`, over `proc.run`: the lint and the footprint build kustomizations with it,
and a failed build is a finding for them, not an exception."""

from __future__ import annotations

from pathlib import Path

from gitopslab.drivers import proc

BUILD_TIMEOUT_S = 120


def build(kubectl: str, kdir: Path, timeout: float = BUILD_TIMEOUT_S) -> tuple[str | None, str]:
    """(the built YAML, "") or (None, why not in one line)."""
    try:
        done = proc.run([kubectl, "kustomize", str(kdir)], timeout=timeout)
    except proc.TimedOut:
        return None, f"kubectl kustomize did not finish in {timeout:g}s"
    if not done.ok:
        message = " ".join((done.stderr or done.stdout).split())
        return None, message[:600] or f"kubectl kustomize exited {done.returncode}"
    return done.stdout, ""
