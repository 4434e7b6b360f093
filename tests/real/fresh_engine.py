"""A second, empty Docker engine: its own data root, socket and default bridge, and no iptables rules (so
no NAT: its containers reach nothing beyond the host). It stands for a participant's laptop in a
room without a network: what `bundle load` brings is all it has."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.conftest import need


class FreshEngine:
    def __init__(self, root: Path) -> None:
        self.root = root
        # Unix socket paths (dockerd's, containerd's under the exec root) must stay under ~100 bytes:
        # pytest's tmp paths can be longer.
        self.short = Path(tempfile.mkdtemp(prefix="gle-", dir="/tmp"))
        self.sock = self.short / "d.sock"
        self.host = f"unix://{self.sock}"
        self.bridge = f"gle{self.short.name[-6:]}"[:15]
        self.proc: subprocess.Popen[bytes] | None = None
        self.outer_env = dict(os.environ)  # the engine the tests otherwise use, whatever DOCKER_HOST becomes

    def start(self, timeout: float = 60.0) -> FreshEngine:
        dockerd = shutil.which("dockerd")
        need(dockerd is not None, "dockerd is not installed (scripts/engine-up.sh installs docker.io)")
        self.root.mkdir(parents=True, exist_ok=True)
        # Its own default bridge: `--bridge none` would make dockerd delete docker0, the host engine's
        # (moby removes the default bridge interface when the bridge is disabled).
        for cmd in (["ip", "link", "add", self.bridge, "type", "bridge"],
                    ["ip", "addr", "add", "10.251.0.1/24", "dev", self.bridge], ["ip", "link", "set", self.bridge, "up"]):
            subprocess.run(cmd, capture_output=True, check=True)
        log = (self.root / "dockerd.log").open("wb")
        self.proc = subprocess.Popen(
            [str(dockerd), "--data-root", str(self.root / "data"), "--exec-root", str(self.short / "x"),
             "--pidfile", str(self.root / "dockerd.pid"), "-H", self.host, "--bridge", self.bridge,
             "--iptables=false", "--ip6tables=false"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.docker("info", check=False).returncode == 0:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        tail = (self.root / "dockerd.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"a second dockerd did not answer within {timeout:.0f} s:\n{tail}")

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", "-H", self.host, *args], capture_output=True, text=True, timeout=300,
                              check=check)

    def outer(self, *args: str) -> subprocess.CompletedProcess[str]:
        """docker against the engine this machine's tests otherwise use."""
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300, check=True,
                              env=self.outer_env)

    def image_ids(self) -> dict[str, str]:
        out = self.docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout.split("\n")
        return dict(line.split() for line in out if line.strip())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        # dockerd leaves its data root bind-mounted on itself; unmounted, pytest can remove the tmp dir.
        for mount in reversed(Path("/proc/mounts").read_text().splitlines()):
            point = mount.split()[1]
            if point.startswith((str(self.root), str(self.short))):
                subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)
        shutil.rmtree(self.short, ignore_errors=True)
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True, check=False)
