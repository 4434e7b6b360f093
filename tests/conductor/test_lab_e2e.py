"""The whole lab on a machine with Docker, k3d and internet: `gitopslab up` -> `gitopslab doctor` ->
`gitopslab destroy --yes`, as a person runs them. Marked `lab` (deselected in CI); it skips, saying
why, where k3d or an engine is missing. Uses its own lab name and ports so it never touches a
person's lab."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab


def _gitopslab(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)


def test_up_doctor_destroy(tmp_path: Path) -> None:
    if not shutil.which("k3d"):
        pytest.skip("k3d is not on PATH (this test needs Docker, k3d and internet)")
    if not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("no container engine answers")
    name = "gltlab"
    config = tmp_path / "gitopslab.yaml"
    # Ports away from the defaults, so a person's own lab on this machine is left alone.
    config.write_text(
        f"name: {name}\nnetwork:\n  subnet: 172.30.91.0/24\nports:\n  gitea: 13000\n  woodpecker: 18000\n"
        "  registry: 15002\n  kube_api: 16550\n  argocd: 18081\n  hello_api: 18088\n  mlflow: 18090\n"
        "  minio_api: 19090\n  minio_console: 19091\n  dashboard: 32444\n"
    )
    env = {**os.environ, "GITOPSLAB_CONFIG": str(config), "NO_COLOR": "1"}
    try:
        up = _gitopslab("up", env=env, timeout=1800)
        assert up.returncode == 0, up.stdout[-4000:] + up.stderr[-4000:]
        again = _gitopslab("up", env=env, timeout=900)
        assert again.returncode == 0, again.stderr[-4000:]
        doctor = _gitopslab("doctor", "--json", env=env, timeout=600)
        assert doctor.returncode == 0, doctor.stdout[-4000:] + doctor.stderr[-4000:]
        assert json.loads(doctor.stdout)["schema"] == "gitopslab/doctor"
        kubeconfig = _gitopslab("kubeconfig", env=env, timeout=60)
        path = kubeconfig.stdout.strip().removeprefix("export KUBECONFIG=")
        nodes = subprocess.run(["kubectl", "--kubeconfig", path, "get", "nodes", "-o", "name"],
                               capture_output=True, text=True, check=False)
        assert f"node/k3d-{name}-server-0" in nodes.stdout
    finally:
        down = _gitopslab("destroy", "--yes", env=env, timeout=900)
    assert down.returncode == 0, down.stderr[-4000:]
    listed = subprocess.run(["k3d", "cluster", "list", "-o", "json"], capture_output=True, text=True, check=True)
    assert name not in [c["name"] for c in json.loads(listed.stdout or "[]")]
