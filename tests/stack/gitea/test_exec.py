"""whales_exec: the ExecInGitea adapter over python-on-whales, against the real engine."""

from __future__ import annotations

import subprocess

import pytest

from gitopslab.stack.gitea.seed import whales_exec


@pytest.mark.engine
def test_exec_returns_output_and_failures_without_raising(engine, busybox_image, unique_name, request):
    from python_on_whales import DockerClient

    subprocess.run([engine, "run", "-d", "--name", unique_name, "--label", "io.gitopslab.test=1",
                    busybox_image, "sleep", "120"], check=True, capture_output=True)
    request.addfinalizer(lambda: subprocess.run([engine, "rm", "-f", unique_name], capture_output=True))
    run = whales_exec(DockerClient(), unique_name)

    ok = run(["sh", "-c", "id -u"], user="65534")
    assert ok.returncode == 0 and ok.stdout.strip() == "65534"

    failed = run(["sh", "-c", "echo out; echo err >&2; exit 3", "--password=hunter2-secret"], user="65534")
    assert failed.returncode == 3
    assert failed.stdout.strip() == "out" and failed.stderr.strip() == "err"
