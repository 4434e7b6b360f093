"""GPU detection through real processes: a test `nvidia-smi` on PATH printing the real CSV format (or
the driver failure), a test `docker` printing `docker info --format '{{json .Runtimes}}'` with or
without the nvidia runtime, CDI spec folders; and the decision on/auto/off."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from gitopslab.drivers import gpu
from gitopslab.errors import PreflightError

SMI_TWO_GPUS = "NVIDIA GeForce RTX 4090, 24564 MiB, 550.54.14\nNVIDIA RTX A2000 12GB, 12282 MiB, 550.54.14\n"
SMI_NO_DRIVER = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
                 "Make sure that the latest NVIDIA driver is installed and running.")
RUNTIMES = {"io.containerd.runc.v2": {"path": "runc"}, "runc": {"path": "runc"}}


def _exe(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def _smi(folder: Path, output: str, rc: int = 0) -> None:
    # Answers only the exact query gitopslab sends, like the real tool rejects unknown fields.
    (folder / "smi.out").write_text(output)
    (folder / "smi.err").write_text(SMI_NO_DRIVER + "\n")
    _exe(folder, "nvidia-smi", f"""
if [ "$1" != "--query-gpu=name,memory.total,driver_version" ] || [ "$2" != "--format=csv,noheader" ]; then
  echo "Invalid combination of input arguments." >&2; exit 2
fi
cat "{folder}/smi.out"
[ {rc} -eq 0 ] || {{ cat "{folder}/smi.err"; exit {rc}; }}
""")


def _docker(folder: Path, runtimes: dict[str, object]) -> str:
    return str(_exe(folder, "docker", f"""
[ "$1 $2 $3" = "info --format {{{{json .Runtimes}}}}" ] || {{ echo "unexpected: $*" >&2; exit 1; }}
echo '{json.dumps(runtimes)}'
"""))


@pytest.fixture
def bindir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return folder


def test_gpu_with_nvidia_runtime(bindir: Path) -> None:
    _smi(bindir, SMI_TWO_GPUS)
    docker = _docker(bindir, RUNTIMES | {"nvidia": {"path": "nvidia-container-runtime"}})
    report = gpu.detect(engine_cli=docker, cdi_dirs=())
    assert [g.name for g in report.gpus] == ["NVIDIA GeForce RTX 4090", "NVIDIA RTX A2000 12GB"]
    assert report.gpus[0].memory == "24564 MiB" and report.gpus[0].driver == "550.54.14"
    assert report.engine_runtime and report.usable
    assert gpu.resolve("on", lambda: report) is True
    assert "RTX 4090" in report.summary() and "nvidia runtime" in report.summary()


def test_gpu_but_engine_without_nvidia_runtime(bindir: Path) -> None:
    _smi(bindir, SMI_TWO_GPUS)
    report = gpu.detect(engine_cli=_docker(bindir, RUNTIMES), cdi_dirs=())
    assert report.gpus and not report.engine_runtime and not report.usable
    with pytest.raises(PreflightError) as err:
        gpu.resolve("on", lambda: report)
    assert "nvidia-ctk runtime configure --runtime=docker" in str(err.value)
    assert "--gpu off" in (err.value.hint or "")


def test_cdi_spec_makes_the_engine_usable(bindir: Path, tmp_path: Path) -> None:
    _smi(bindir, SMI_TWO_GPUS)
    cdi = tmp_path / "cdi"
    cdi.mkdir()
    (cdi / "nvidia.yaml").write_text('cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: "0"\n')
    (cdi / "other.yaml").write_text("cdiVersion: 0.5.0\nkind: vendor.example/fpga\n")
    report = gpu.detect(engine_cli=_docker(bindir, RUNTIMES), cdi_dirs=(cdi, tmp_path / "absent"))
    assert report.cdi_specs == (str(cdi / "nvidia.yaml"),) and report.usable


def test_no_nvidia_smi_on_path(bindir: Path) -> None:
    docker = _docker(bindir, RUNTIMES | {"nvidia": {"path": "nvidia-container-runtime"}})
    assert shutil.which("nvidia-smi") is None or not str(shutil.which("nvidia-smi")).startswith(str(bindir))
    report = gpu.detect(engine_cli=docker, cdi_dirs=(), which=lambda n: shutil.which(n, path=str(bindir)))
    assert report.gpus == () and "not on PATH" in (report.smi_problem or "")
    with pytest.raises(PreflightError) as err:
        gpu.resolve("on", lambda: report)
    assert "nvidia-smi" in err.value.message
    notices: list[str] = []
    assert gpu.resolve("auto", lambda: report, notices.append) is False
    assert notices and "runs on CPU" in notices[0] and "nvidia-smi" in notices[0]


def test_nvidia_smi_without_driver(bindir: Path) -> None:
    _smi(bindir, "", rc=9)
    report = gpu.detect(engine_cli=_docker(bindir, RUNTIMES), cdi_dirs=())
    assert report.gpus == () and "couldn't communicate with the NVIDIA driver" in (report.smi_problem or "")


def test_off_never_looks() -> None:
    def boom() -> gpu.GpuReport:
        raise AssertionError("gpu: off must not probe the host")

    assert gpu.resolve("off", boom) is False


@pytest.mark.engine
def test_the_real_engine_here_has_no_nvidia_runtime(engine: str, bindir: Path) -> None:
    """Against the real dockerd of this machine: its runtime list is read and has no nvidia."""
    _smi(bindir, SMI_TWO_GPUS)  # pretend a GPU so the engine is asked
    report = gpu.detect(engine_cli=engine, cdi_dirs=())
    assert report.gpus and report.engine_runtime is False and not report.notes
