"""How to run this very gitopslab from a shell, for the fixes it prints.

After `./start.sh` the venv is not on PATH, so a printed `gitopslab tools install k3d` is "command not
found", and under sudo (which resets PATH) `"$(command -v gitopslab)"` expands to nothing. So:

    command()   "gitopslab" when that name on PATH is this program, else its absolute path
                (or `<python> -m gitopslab` when it runs that way)
    absolute()  always the absolute path: for sudo
    spell(text, verbs)   every `gitopslab <verb>` in a printed message, spelled with command()
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

_NAMES = ("gitopslab", "gitopslab.exe", "gitopslab-script.py")


def _running() -> tuple[str, Path] | None:
    """(how to run it, the file that must be on PATH for plain `gitopslab` to be it), or None when this
    process is not a gitopslab command (a test runner, an embedding program)."""
    argv0 = sys.argv[0] if sys.argv else ""
    path = Path(argv0)
    if path.name in _NAMES:
        found = path if path.is_file() else Path(shutil.which(argv0) or argv0)
        found = found.absolute()
        return shlex.quote(str(found)), found
    if path.name == "__main__.py" and path.parent.name == "gitopslab":  # python -m gitopslab
        python = Path(sys.executable).absolute()
        return f"{shlex.quote(str(python))} -m gitopslab", python.parent / "gitopslab"
    return None


def command() -> str:
    running = _running()
    if running is None:
        return "gitopslab"
    spelled, expected = running
    on_path = shutil.which("gitopslab")
    if on_path and Path(on_path).absolute() == expected:
        return "gitopslab"
    return spelled


def absolute() -> str:
    running = _running()
    if running is not None:
        return running[0]
    beside = Path(sys.executable).absolute().parent / "gitopslab"  # the venv's own script
    found = shutil.which("gitopslab") or (str(beside) if beside.is_file() else None)
    return shlex.quote(str(Path(found).absolute())) if found else "gitopslab"


def spell(text: str, verbs: Iterable[str]) -> str:
    """`text` with each `gitopslab <verb>` spelled so that it runs as printed (see command())."""
    spelled = command()
    if spelled == "gitopslab" or not text:
        return text
    pattern = re.compile(r"(?<![\w./\-\"'$(])gitopslab(?= (?:" + "|".join(map(re.escape, verbs)) + r")\b)")
    return pattern.sub(lambda _: spelled, text)
