"""Issue 23 item 2: Ctrl-C during a wait in a lane stops the run at once (not when the wait would have
timed out), kills the program a lane runs, leaves the journal of the finished steps and the lock free
for the resume; while a step waits, a line says what it waits for and what it last saw (a pipe here).

The runner runs in a real subprocess with stand-in steps, and gets a real SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from gitopslab.state import LabState
from tests.support.signals import ctrl_c_as_at_a_terminal

SCRIPT = textwrap.dedent('''
    import sys
    from gitopslab import wait
    from gitopslab.commands import progress
    from gitopslab.conductor import runner
    from gitopslab.context import Context
    from gitopslab.drivers import proc
    from gitopslab.model.config import LabConfig
    from gitopslab.stack.step import FuncStep

    name, pidfile = sys.argv[1], sys.argv[2]
    ctx = Context.from_config(LabConfig(name=name))
    seen = {"n": 0}

    def probe():
        seen["n"] += 1
        return False, f"answer {seen['n']}: 503 Service Unavailable"

    def wait_forever(c):  # a 300 s wait, polled every 5 s: Ctrl-C must not wait for either
        wait.until(probe, component="stand-in", awaited="GET /health answering 200", timeout=300,
                   interval=5, next_command="gitopslab logs stand-in")

    def run_program(c):
        proc.run(["sh", "-c", f"echo $$ > {pidfile}; exec sleep 300"], timeout=600)

    stages = [FuncStep("first", "a quick first step", lambda c: False, lambda c: None),
              ([FuncStep("lane.wait", "wait for the stand-in", lambda c: False, wait_forever)],
               [FuncStep("lane.program", "run a long program", lambda c: False, run_program)])]
    with ctx.state.lock("up"):
        try:
            runner.run(ctx, stages, progress.StepPrinter(len(stages)), heartbeat=0.5)
        except KeyboardInterrupt:
            print("interrupted: run again to resume", flush=True)
            sys.exit(130)
''')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_ctrl_c_during_a_lane_wait_stops_at_once_and_leaves_a_resumable_journal(tmp_path, unique_name):
    state_root, pidfile = tmp_path / "state", tmp_path / "program.pid"
    env = {**os.environ, "GITOPSLAB_STATE_DIR": str(state_root), "NO_COLOR": "1", "COLUMNS": "200"}
    child = subprocess.Popen([sys.executable, "-c", SCRIPT, unique_name, str(pidfile)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=ctrl_c_as_at_a_terminal)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(child.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        # Bounded: the heartbeat comes every 0.5 s once the wait has probed twice.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
                pidfile.exists() and any("last seen: answer" in line for line in lines)):
            time.sleep(0.1)
        assert pidfile.exists(), "".join(lines)
        heartbeat = [line for line in lines if "last seen: answer" in line]
        assert heartbeat, "".join(lines)
        assert "waiting for stand-in: GET /health answering 200" in heartbeat[0]
        assert "of 300 s" in heartbeat[0]
        assert any("run a long program: still running after" in line for line in lines), "".join(lines)

        child.send_signal(signal.SIGINT)
        child.wait(timeout=10)  # the wait had 300 s to go and the program 300 s: neither is awaited
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    reader.join(5)
    out = "".join(lines)
    assert child.returncode == 130, out
    assert "Traceback" not in out, out
    assert "interrupted wait for the stand-in" in out and "interrupted run a long program" in out, out
    # the program the lane ran was killed with it, not left behind
    pid = int(pidfile.read_text())
    gone_by = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < gone_by:
        time.sleep(0.1)
    assert not _alive(pid)
    # resumable: the finished step is journaled, the interrupted ones are not, and the lock is free
    state = LabState(unique_name, root=state_root)
    assert set(state.journal()) == {"first"}
    with state.lock("up"):
        pass
