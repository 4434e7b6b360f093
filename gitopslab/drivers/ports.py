"""Is a host port free, and if not, who holds it: this lab, another container, or a process.

The holder is named when the OS can tell: the container publishing the port (engine CLI), else the
process owning the listening socket (Linux: /proc/net/tcp inode -> /proc/<pid>/fd; elsewhere `lsof`).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

_PUBLISHED = re.compile(r"(?:[\d.]+|\[?[0-9a-f:]*\]?):(\d+)->\d+/tcp")


@dataclass(frozen=True)
class Holder:
    pid: int | None = None
    process: str | None = None
    container: str | None = None
    container_labels: str = ""

    def describe(self) -> str:
        parts = []
        if self.container:
            parts.append(f"container {self.container}")
        if self.process:
            parts.append(f"{self.process} (PID {self.pid})" if self.pid else self.process)
        return " via ".join(parts) if parts else "a process the OS does not name to this user"


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when the lab could publish `port` on 127.0.0.1 now."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR so a TIME_WAIT leftover does not count as taken (a listener still does).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        return True
    except OSError:  # EADDRINUSE, or EACCES for a privileged port: either way the lab cannot use it
        return False
    finally:
        sock.close()


def published_by(ps_lines: list[tuple[str, str, str]], port: int) -> tuple[str, str] | None:
    """(container name, labels) of the container publishing host `port`, from `ps` rows."""
    for name, ports, labels in ps_lines:
        if any(int(p) == port for p in _PUBLISHED.findall(ports)):
            return name, labels
    return None


def _listen_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def _proc_holder(port: int) -> Holder | None:
    inodes = {f"socket:[{i}]" for i in _listen_inodes(port) if i != "0"}
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if _readlink(fd) in inodes:
                    comm = (proc / "comm").read_text().strip()
                    return Holder(pid=int(proc.name), process=comm)
        except OSError:  # gone, or not ours to read
            continue
    return None


def _readlink(path: Path) -> str:
    try:
        return str(path.readlink())
    except OSError:
        return ""


def _lsof_holder(port: int) -> Holder | None:
    lsof = shutil.which("lsof")
    if not lsof:
        return None
    try:
        proc = subprocess.run([lsof, "-nP", f"-iTCP:{port}", "-sTCP:LISTEN", "-Fpc"],
                              capture_output=True, text=True, timeout=2)
    except (OSError, subprocess.TimeoutExpired):
        return None
    pid, name = None, None
    for line in proc.stdout.splitlines():
        if line.startswith("p") and pid is None:
            pid = int(line[1:])
        elif line.startswith("c") and name is None:
            name = line[1:]
    return Holder(pid=pid, process=name) if pid else None


def process_holder(port: int) -> Holder | None:
    return _proc_holder(port) or _lsof_holder(port)


def holder(port: int, ps_lines: list[tuple[str, str, str]]) -> Holder:
    """Who holds `port`: the publishing container (if any) and the owning process (if visible)."""
    proc = process_holder(port)
    pub = published_by(ps_lines, port)
    container, labels = pub if pub else (None, "")
    return Holder(pid=proc.pid if proc else None, process=proc.process if proc else None,
                  container=container, container_labels=labels)


def container_rows(cli: str) -> list[tuple[str, str, str]]:
    """(name, ports, labels) of the running containers, for `holder`."""
    try:
        proc = subprocess.run([cli, "ps", "--format", "{{.Names}}\t{{.Ports}}\t{{.Labels}}"],
                              capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if proc.returncode != 0:
        return []
    return [tuple((line.split("\t") + ["", ""])[:3]) for line in proc.stdout.splitlines()]  # type: ignore[misc]


def describe(port: int, cli: str | None = None) -> str:
    """What holds `port`, in words: the publishing container and/or the owning process."""
    return holder(port, container_rows(cli) if cli else []).describe()
