"""Issue 11 item 17: the memory preflight judges the engine by what the whole lab needs (workloads'
budget + compose layer + k3s + Argo CD), not by the workloads' 4 GiB alone, and states the figure."""

from __future__ import annotations

import json
from pathlib import Path

from gitopslab.doctor import host
from gitopslab.doctor.footprint import OUTSIDE_GITOPS_MIB, lab_need_bytes
from gitopslab.doctor.probe import Probe
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.state import LabState

GIB = 2**30


def _memory_with_engine(tmp_path: Path, monkeypatch, mem_bytes: int, **cfg):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "info.json").write_text(json.dumps({"MemTotal": mem_bytes, "DockerRootDir": "/var/lib/docker",
                                                    "NCPU": 4, "CgroupVersion": "2"}))
    (bin_dir / "docker").write_text(f'#!/bin/sh\n[ "$1" = info ] && exec /bin/cat {tmp_path / "info.json"}\nexit 1\n')
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    # The host's own free memory is not what is tested here: plenty available.
    monkeypatch.setattr(host, "_host_memory", lambda: (64 * GIB, 64 * GIB))
    config = LabConfig.model_validate({"name": "mem-test", **cfg})
    return host.memory(Probe(config, build(config), LabState(config.name, root=tmp_path / "state"), 3.0))


def test_the_whole_lab_is_more_than_the_workloads_budget():
    whole = lab_need_bytes(4.0)
    assert whole == 4 * GIB + sum(OUTSIDE_GITOPS_MIB.values()) * 2**20
    assert whole > 6 * GIB  # Gitea, Woodpecker, a build step, k3s and Argo CD come on top of 4 GiB


def test_an_engine_with_only_the_workloads_memory_fails_and_states_the_figure(tmp_path, monkeypatch):
    res = _memory_with_engine(tmp_path, monkeypatch, int(4.5 * GIB))
    need = lab_need_bytes(4.0) / GIB
    assert res.status == "fail"
    assert res.detail.startswith(f"the engine has 4.5 GiB; the lab needs {need:.1f} GiB: workloads 4 GiB "
                                 "(resources.memory_gib) + ")
    assert "compose layer, k3s and Argo CD" in res.detail


def test_an_engine_with_room_for_the_whole_lab_passes(tmp_path, monkeypatch):
    res = _memory_with_engine(tmp_path, monkeypatch, 16 * GIB)
    assert res.status == "ok" and f"the lab needs {lab_need_bytes(4.0) / GIB:.1f} GiB" in res.detail


def test_a_smaller_workloads_budget_lowers_the_whole_figure(tmp_path, monkeypatch):
    res = _memory_with_engine(tmp_path, monkeypatch, int(4.5 * GIB), resources={"memory_gib": 1})
    assert res.status == "ok" and f"the lab needs {lab_need_bytes(1.0) / GIB:.1f} GiB" in res.detail


def test_the_multicluster_profile_adds_the_production_node_cap(tmp_path, monkeypatch):
    """Issue 25: the second cluster's node is capped at 1.5 GiB (k3d serversMemory); preflight counts it."""
    need = lab_need_bytes(4.0, multicluster=True)
    assert need == lab_need_bytes(4.0) + 1536 * 2**20
    res = _memory_with_engine(tmp_path, monkeypatch, int(8 * GIB), multicluster=True)
    assert res.status == "fail"
    assert f"the lab needs {need / GIB:.1f} GiB" in res.detail
    assert "+ 1.5 GiB for the production cluster's node (multicluster)" in res.detail
    # the same engine holds the one-cluster lab
    assert (tmp_path / "one").mkdir() or _memory_with_engine(tmp_path / "one", monkeypatch, int(8 * GIB)).status == "ok"
