"""Issue 11 item 4: k3s v1.35 (Kubernetes v1.35, KEP-5573) refuses cgroup v1 unless the kubelet gets
`fail-cgroupv1=false`. The nodes carry that argument; preflight and doctor name a v1 engine with the way
to v2. The engine's answer comes from a recorded `docker info` (v1 and v2) and from the real engine."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from gitopslab import cli
from gitopslab.doctor import host
from gitopslab.doctor.probe import Probe
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render import k3d as k3d_render
from gitopslab.state import LabState

# The fields `docker info --format '{{json .}}'` gives (Docker 29 on a cgroup v1 host, trimmed).
DOCKER_INFO_V1 = {"ID": "WUYA", "MemTotal": 25275990016, "DockerRootDir": "/var/lib/docker", "NCPU": 2,
                  "CgroupDriver": "cgroupfs", "CgroupVersion": "1", "ServerVersion": "29.1.3"}
DOCKER_INFO_V2 = DOCKER_INFO_V1 | {"CgroupDriver": "systemd", "CgroupVersion": "2"}
# `podman info --format json` puts them under host/store, the version as "v2".
PODMAN_INFO = {"host": {"memTotal": 8331284480, "cpus": 4, "cgroupVersion": "v2"},
               "store": {"graphRoot": "/home/u/.local/share/containers/storage"}}


def _fake_engine(tmp_path: Path, info: dict) -> Path:
    """A `docker` on PATH that answers `info` with the recorded document and fails everything else."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "info.json").write_text(json.dumps(info))
    script = bin_dir / "docker"
    script.write_text(f'#!/bin/sh\n[ "$1" = info ] && exec /bin/cat {tmp_path / "info.json"}\necho "no $1 here" >&2\n'
                      "exit 1\n")
    script.chmod(0o755)
    return bin_dir


def _probe(tmp_path: Path) -> Probe:
    cfg = LabConfig(name="cgroup-test")
    return Probe(cfg, build(cfg), LabState(cfg.name, root=tmp_path / "state"), 3.0)


def test_cgroup_v1_engine_is_a_warning_naming_kep_and_the_way_to_v2(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(_fake_engine(tmp_path, DOCKER_INFO_V1)))
    res = host.cgroup(_probe(tmp_path))
    assert res.status == "warn"
    assert "cgroup v1" in res.detail and "KEP-5573" in res.detail and "fail-cgroupv1=false" in res.detail
    assert "systemd.unified_cgroup_hierarchy=1" in (res.fix or "")


def test_cgroup_v2_engine_is_ok(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(_fake_engine(tmp_path, DOCKER_INFO_V2)))
    res = host.cgroup(_probe(tmp_path))
    assert (res.status, res.detail) == ("ok", "the engine runs cgroup v2")


def test_engine_that_does_not_say_is_skipped_not_guessed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(_fake_engine(tmp_path, {"MemTotal": 1})))
    assert host.cgroup(_probe(tmp_path)).status == "skip"


def test_podman_info_shape_is_read_too():
    assert host.engine_facts(PODMAN_INFO) == {"mem": "8331284480", "root": "/home/u/.local/share/containers/storage",
                                              "ncpu": "4", "cgroup": "2"}
    assert host.engine_facts(DOCKER_INFO_V1)["cgroup"] == "1"


def test_doctor_host_shows_the_cgroup_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(_fake_engine(tmp_path, DOCKER_INFO_V1)))
    monkeypatch.setenv("GITOPSLAB_STATE_DIR", str(tmp_path / "state"))
    cli.main(["doctor", "--name", "cgroup-test", "--only", "host", "--json"])
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["data"]["checks"]}
    assert checks["cgroup"]["status"] == "warn" and "KEP-5573" in checks["cgroup"]["detail"]


@pytest.mark.engine
def test_real_engine_cgroup_version_is_reported(engine, tmp_path):
    real = subprocess.run(["docker", "info", "--format", "{{.CgroupVersion}}"], capture_output=True, text=True,
                          check=True).stdout.strip()
    res = host.cgroup(_probe(tmp_path))
    assert res.status == {"1": "warn", "2": "ok"}[real]
    assert f"cgroup v{real}" in res.detail


@pytest.mark.parametrize("gpu", ["off", "on"])
def test_every_node_gets_the_kubelet_argument_that_allows_cgroup_v1(gpu):
    cfg = LabConfig(gpu=gpu)
    doc = yaml.safe_load(k3d_render.render_config(cfg, build(cfg)))
    assert {"arg": "--kubelet-arg=fail-cgroupv1=false", "nodeFilters": ["server:*", "agent:*"]} in \
        doc["options"]["k3s"]["extraArgs"]
