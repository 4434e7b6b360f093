"""Host ports: is one free on 127.0.0.1, and if not, who holds it (a container, or a process).

Used before the compose layer starts anything, so a taken port stops `up` with the port and its
holder named and nothing half-started. Preflight can use the same functions.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a listener could bind host:port now (SO_REUSEADDR: TIME_WAIT leftovers do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def holder(port: int, cli: str | None = None) -> str:
    """A short description of what listens on `port`: a container name, a process, or 'unknown'."""
    container = _container_holder(port, cli) if cli else None
    if container:
        return f"container {container}"
    process = _proc_holder(port) if sys.platform.startswith("linux") else _lsof_holder(port)
    return process or f"an unknown process (try: lsof -nP -iTCP:{port} -sTCP:LISTEN)"


def _container_holder(port: int, cli: str) -> str | None:
    try:
        proc = subprocess.run([cli, "ps", "--filter", f"publish={port}", "--format", "{{.Names}}"],
                              capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = proc.stdout.split()
    return names[0] if proc.returncode == 0 and names else None


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                inodes.add(inode)
    return inodes


def _proc_holder(port: int) -> str | None:
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in targets for fd in fds):
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
                return f"process {comm} (pid {pid})"
        except OSError:  # the process ended or is not ours to read
            continue
    return f"a process this user cannot see (try: sudo ss -ltnp 'sport = :{port}')"


def _lsof_holder(port: int) -> str | None:
    lsof = shutil.which("lsof")
    if not lsof:
        return None
    try:
        proc = subprocess.run([lsof, "-nP", f"-iTCP:{port}", "-sTCP:LISTEN", "-Fpc"],
                              capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    pid = next((line[1:] for line in proc.stdout.splitlines() if line.startswith("p")), None)
    comm = next((line[1:] for line in proc.stdout.splitlines() if line.startswith("c")), "?")
    return f"process {comm} (pid {pid})" if pid else None
