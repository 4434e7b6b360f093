"""Preflight (issue 2): engine checks on the real engine, a dead DOCKER_HOST, k3d absent, a port
taken by a process the test starts. Every problem is reported at once and nothing is changed."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitopslab import cli
from gitopslab.context import Context
from gitopslab.doctor.preflight import ensure_preflight, run_preflight
from gitopslab.errors import PreflightError
from gitopslab.model.config import LabConfig
from tests.support.compose_lab import DEFAULT_PORTS, free_ports
from tests.support.preflight import path_without_k3d


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ctx(tmp_path: Path, name: str, **extra) -> Context:
    # The lab's ports on free ephemeral ports, so the test does not depend on what else runs here.
    keys = ("gitea", "woodpecker", "registry", "kube_api", "argocd", "hello_api", "mlflow", "minio_api",
            "minio_console", "dashboard")
    # All held open at once while chosen: one free port after another can repeat (a refused config).
    ports = dict(zip(keys, free_ports(len(keys), DEFAULT_PORTS), strict=True)) | extra.pop("ports", {})
    return Context.from_config(LabConfig.model_validate({"name": name, "ports": ports, **extra}))


def _by_name(results):
    return {r.name: r for r in results}


@pytest.mark.engine
def test_real_engine_passes_the_engine_checks(engine, tmp_path, unique_name):
    got = _by_name(run_preflight(_ctx(tmp_path, unique_name)))
    assert got["engine"].status == "ok" and got["engine"].detail.startswith(("docker ", "podman "))
    assert "API" in got["engine"].detail
    assert got["compose"].status == "ok"
    assert got["ports"].status == "ok"
    assert got["git"].status == "ok"
    assert set(got) >= {"engine", "compose", "k3d", "kubectl", "git", "ports", "memory", "disk", "names", "proxy", "gpu"}


def test_dead_docker_host_is_a_clear_message_and_exit_1(tmp_path, unique_name, monkeypatch, capsys):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    got = _by_name(run_preflight(_ctx(tmp_path, unique_name)))
    assert got["engine"].status == "fail"
    assert "no container engine answers" in got["engine"].detail
    assert f"DOCKER_HOST is set to unix://{tmp_path}/dead.sock" in got["engine"].fix
    with pytest.raises(PreflightError) as exc:
        ensure_preflight(_ctx(tmp_path, unique_name))
    assert exc.value.exit_code == 1 and "engine: no container engine answers" in exc.value.message
    assert cli.main(["doctor", "--name", unique_name, "--only", "host"]) == 1
    assert "no container engine answers" in capsys.readouterr().out


def test_k3d_absent_is_named_with_its_install_hint(tmp_path, unique_name, monkeypatch):
    path_without_k3d(tmp_path, monkeypatch)
    state_before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(PreflightError) as exc:
        ensure_preflight(_ctx(tmp_path, unique_name))
    msg = exc.value.message
    assert "k3d: k3d is not installed" in msg and "gitopslab tools install k3d" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == state_before  # nothing changed or created


def test_every_problem_is_reported_at_once(tmp_path, unique_name, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing at all on PATH
    from gitopslab.drivers.hosts_file import unresolved
    from tests.conftest import need

    # Lab names must end in .localhost; some resolvers answer every *.localhost with loopback.
    need(unresolved(["gitea.gitopslab-none.localhost"]) != [], "this resolver answers *.localhost")
    ctx = _ctx(tmp_path, unique_name, hostnames={"gitea": "gitea.gitopslab-none.localhost"})
    with pytest.raises(PreflightError) as exc:
        ensure_preflight(ctx)
    for name in ("engine", "compose", "k3d", "kubectl", "git", "names"):
        assert f"  - {name}: " in exc.value.message
    assert "127.0.0.1 gitea.gitopslab-none.localhost" in exc.value.message  # the exact hosts line to add
    # sudo resets PATH: the full path of this gitopslab, not a `$(command -v ...)` that may expand to nothing
    assert re.search(r"sudo /\S*gitopslab hosts --apply", exc.value.message), exc.value.message
    assert not ctx.state.dir.exists()


def test_port_taken_by_a_process_names_port_pid_and_process(tmp_path, unique_name):
    port = _free_port()
    script = (f"import socket,time; s=socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(); "
              "print('ready', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        results = run_preflight(_ctx(tmp_path, unique_name, ports={"gitea": port}))
        bad = _by_name(results)[f"port:{port}"]
        assert bad.status == "fail"
        assert f"port {port} (gitea) is taken by" in bad.detail
        assert f"(PID {holder.pid})" in bad.detail
        assert Path(f"/proc/{holder.pid}/comm").read_text().strip() in bad.detail if Path("/proc").exists() else True
        assert f"kill {holder.pid}" in bad.fix and "ports.gitea" in bad.fix
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.engine
def test_port_published_by_a_container_names_the_container(engine, busybox_image, tmp_path, unique_name):
    port = _free_port()
    subprocess.run(["docker", "run", "-d", "--name", unique_name, "--label", "io.gitopslab.test=1",
                    "--label", f"io.gitopslab.lab={unique_name}",
                    "-p", f"127.0.0.1:{port}:80", busybox_image, "sleep", "120"], check=True, capture_output=True)
    try:
        time.sleep(0.3)
        bad = _by_name(run_preflight(_ctx(tmp_path, f"{unique_name}x", ports={"registry": port})))[f"port:{port}"]
        assert f"container {unique_name}" in bad.detail and f"docker stop {unique_name}" in bad.fix
        # The same port held by this lab's own container is fine (re-running `up` on a running lab).
        ok = _by_name(run_preflight(_ctx(tmp_path, unique_name, ports={"registry": port})))
        assert "ports" in ok and ok["ports"].status == "ok"
    finally:
        subprocess.run(["docker", "rm", "-f", unique_name], capture_output=True)


def test_gpu_profile_without_nvidia_smi(tmp_path, unique_name, monkeypatch):
    monkeypatch.setenv("PATH", os.defpath if not shutil.which("nvidia-smi") else str(tmp_path))
    assert _by_name(run_preflight(_ctx(tmp_path, unique_name, gpu="on")))["gpu"].status == "fail"
    assert _by_name(run_preflight(_ctx(tmp_path, unique_name, gpu="auto")))["gpu"].status == "warn"
    assert _by_name(run_preflight(_ctx(tmp_path, unique_name)))["gpu"].status == "skip"


def test_proxy_without_the_lab_names_in_no_proxy_warns(tmp_path, unique_name, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,example.com")  # "localhost" would cover *.localhost
    res = _by_name(run_preflight(_ctx(tmp_path, unique_name)))["proxy"]
    assert res.status == "warn" and "gitea.localhost" in res.detail and "NO_PROXY" in res.fix
    monkeypatch.setenv("NO_PROXY", ".localhost,127.0.0.1")
    assert _by_name(run_preflight(_ctx(tmp_path, unique_name)))["proxy"].status == "ok"
