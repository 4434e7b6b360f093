"""What benchmarks/serving.py reads from /proc: a server's process tree, its CPU seconds and its peak
memory, the same way for the hello-api container (its processes, seen from the host) and for
`mlflow models serve` (the CLI and the uvicorn it starts), so the two figures compare like with like."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


@dataclass(frozen=True)
class Usage:
    cpu_seconds: float       # user + system, summed over the tree
    peak_rss_mb: float       # VmHWM (the kernel's high-water mark since start), summed over the tree
    rss_mb: float            # VmRSS now, summed
    processes: int


def parse_stat(text: str) -> tuple[int, float]:
    """(parent pid, user+system seconds) from a /proc/PID/stat line. The command name (field 2) is in
    parentheses and may hold spaces or parentheses itself, so fields are counted after the LAST ')'."""
    rest = text[text.rindex(")") + 2:].split()
    # rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return int(rest[1]), (int(rest[11]) + int(rest[12])) / TICKS


def parse_status_kb(text: str, key: str) -> int:
    """A `Key:   123 kB` line of /proc/PID/status, in kB (0 when absent: kernel threads)."""
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:  # the process ended between the listing and the read
        return None


def tree(root: int) -> list[int]:
    """root and every descendant alive now."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (text := _read(entry / "stat")) is not None:
            children.setdefault(parse_stat(text)[0], []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def usage(root: int) -> Usage:
    cpu = hwm = rss = 0.0
    count = 0
    for pid in tree(root):
        stat, status = _read(PROC / str(pid) / "stat"), _read(PROC / str(pid) / "status")
        if stat is None or status is None:
            continue
        cpu += parse_stat(stat)[1]
        hwm += parse_status_kb(status, "VmHWM") / 1024
        rss += parse_status_kb(status, "VmRSS") / 1024
        count += 1
    return Usage(round(cpu, 2), round(hwm, 1), round(rss, 1), count)
