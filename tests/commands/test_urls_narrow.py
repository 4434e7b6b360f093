"""`gitopslab urls` never cuts a URL (issue 23 item 6): on a terminal 40 columns wide (a real pseudo
terminal of that size, COLUMNS=40) every URL is printed whole; piped, the table is neither wrapped nor
padded."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _env(columns: int) -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO), "COLUMNS": str(columns)}


def on_terminal(*args: str, columns: int, cwd: Path) -> tuple[int, str]:
    """Run the CLI on a pseudo terminal `columns` wide; its output as the terminal received it."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "gitopslab", *args], stdin=subprocess.DEVNULL,
                            stdout=follower, stderr=follower, cwd=cwd, env=_env(columns))
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the program closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    code = proc.wait(timeout=120)
    return code, ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


def _urls(cwd: Path) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "urls", "--json"], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=_env(40), stdin=subprocess.DEVNULL)
    return [row["url"] for row in json.loads(proc.stdout)["data"]]


def test_a_40_column_terminal_gets_every_url_whole(tmp_path: Path) -> None:
    urls = _urls(tmp_path)
    code, out = on_terminal("urls", columns=40, cwd=tmp_path)
    assert code == 0, out
    lines = out.splitlines()
    for url in urls:
        assert any(re.search(rf"(^|\s){re.escape(url)}(\s|$)", line) for line in lines), (url, out)
    assert "…" not in out
    assert "cluster (platform, NodePort 32443)" in out  # the other column is whole too, on its own line


def test_a_wide_terminal_keeps_the_table_with_every_url_whole(tmp_path: Path) -> None:
    urls = _urls(tmp_path)
    code, out = on_terminal("urls", columns=80, cwd=tmp_path)
    assert code == 0, out
    assert "┃ URL" in out and "…" not in out
    for url in urls:
        assert f"│ {url} " in out, (url, out)


def test_piped_at_40_columns_the_table_is_neither_wrapped_nor_padded(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "urls"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=_env(40), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    row = next(line for line in lines if "http://dashboard.localhost:32443" in line)
    assert "Cluster dashboard (Headlamp)" in row and "cluster (platform, NodePort 32443)" in row  # one line
    assert all(line == line.rstrip() for line in lines)
