"""Is there a GPU the cluster can use? Three facts, each from its source:

  * the driver:  `nvidia-smi` on PATH and answering
                 (`nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader`);
  * the engine:  Docker lists an `nvidia` runtime (`docker info`, `.Runtimes`), which the NVIDIA
                 Container Toolkit registers (`nvidia-ctk runtime configure --runtime=docker`);
  * or CDI:      a CDI spec for `nvidia.com/gpu` in /etc/cdi or /var/run/cdi (`nvidia-ctk cdi generate`).

`gpu: on` without a usable GPU is refused with the fix (`PreflightError`); `gpu: auto` falls back to
CPU and says why; `gpu: off` never looks.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitopslab.drivers import proc
from gitopslab.errors import PreflightError, ToolError

CDI_DIRS = (Path("/etc/cdi"), Path("/var/run/cdi"))
SMI_QUERY = ["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"]
TOOLKIT_FIX = ("install the NVIDIA Container Toolkit, then `sudo nvidia-ctk runtime configure --runtime=docker "
               "&& sudo systemctl restart docker` (or `sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`)")
DRIVER_FIX = "install the NVIDIA driver so that `nvidia-smi` works"


@dataclass(frozen=True)
class Gpu:
    name: str
    memory: str
    driver: str


@dataclass(frozen=True)
class GpuReport:
    gpus: tuple[Gpu, ...] = ()
    smi_problem: str | None = None        # why nvidia-smi gave no GPU (None when it did)
    engine_runtime: bool = False          # the engine lists an `nvidia` runtime
    cdi_specs: tuple[str, ...] = ()       # CDI spec files naming nvidia.com/gpu
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def usable(self) -> bool:
        return bool(self.gpus) and (self.engine_runtime or bool(self.cdi_specs))

    def problems(self) -> list[str]:
        out = []
        if not self.gpus:
            out.append(f"no NVIDIA GPU found: {self.smi_problem or 'nvidia-smi listed none'}; fix: {DRIVER_FIX}")
        if not (self.engine_runtime or self.cdi_specs):
            out.append("the container engine cannot hand a GPU to containers (no `nvidia` runtime in "
                       f"`docker info`, no CDI spec in {' or '.join(map(str, CDI_DIRS))}); fix: {TOOLKIT_FIX}")
        return out

    def summary(self) -> str:
        if not self.gpus:
            return "no GPU"
        names = ", ".join(f"{g.name} ({g.memory}, driver {g.driver})" for g in self.gpus)
        how = "nvidia runtime" if self.engine_runtime else ("CDI" if self.cdi_specs else "no engine support")
        return f"{names}; {how}"


def parse_smi(text: str) -> list[Gpu]:
    """Lines like `NVIDIA GeForce RTX 4090, 24564 MiB, 550.54.14`."""
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 3 and parts[0]:
            gpus.append(Gpu(name=parts[0], memory=parts[1], driver=parts[2]))
    return gpus


def _smi(runner: proc.Runner, which: Callable[[str], str | None]) -> tuple[list[Gpu], str | None]:
    path = which("nvidia-smi")
    if not path:
        return [], "`nvidia-smi` is not on PATH"
    try:
        result = runner([path, *SMI_QUERY], timeout=20)
    except ToolError as exc:
        return [], exc.message
    if not result.ok:
        return [], f"`nvidia-smi` failed: {result.last_error_line()}"
    gpus = parse_smi(result.stdout)
    return gpus, None if gpus else "`nvidia-smi` listed no GPU"


def _engine_runtime(runner: proc.Runner, engine_cli: str) -> tuple[bool, str | None]:
    try:
        result = runner([engine_cli, "info", "--format", "{{json .Runtimes}}"], timeout=30)
    except ToolError as exc:
        return False, exc.message
    if not result.ok:
        return False, f"`{engine_cli} info` failed: {result.last_error_line()}"
    try:
        runtimes = json.loads(result.stdout or "null") or {}
    except ValueError:
        return False, f"`{engine_cli} info` printed no runtime list"
    return isinstance(runtimes, dict) and "nvidia" in runtimes, None


def cdi_specs(dirs: Sequence[Path] = CDI_DIRS) -> list[str]:
    found = []
    for folder in dirs:
        try:
            files = sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
        except OSError:
            continue
        for spec in files:
            try:
                if "nvidia.com/gpu" in spec.read_text(encoding="utf-8", errors="replace"):
                    found.append(str(spec))
            except OSError:
                continue
    return found


def detect(
    runner: proc.Runner | None = None,
    engine_cli: str = "docker",
    which: Callable[[str], str | None] = shutil.which,
    cdi_dirs: Sequence[Path] = CDI_DIRS,
) -> GpuReport:
    runner = runner or proc.run
    gpus, smi_problem = _smi(runner, which)
    notes = []
    runtime, engine_problem = _engine_runtime(runner, engine_cli) if gpus else (False, None)
    if engine_problem:
        notes.append(engine_problem)
    return GpuReport(tuple(gpus), smi_problem, runtime, tuple(cdi_specs(cdi_dirs)) if gpus else (), tuple(notes))


def resolve(mode: str, report: Callable[[], GpuReport], notice: Callable[[str], None] = print) -> bool:
    """Whether the cluster gets a GPU node. `on` without a usable GPU -> PreflightError with the fix;
    `auto` -> False with a notice."""
    if mode == "off":
        return False
    found = report()
    if found.usable:
        return True
    if mode == "auto":
        notice("gpu: auto -> no usable GPU, the lab runs on CPU (" + "; ".join(found.problems()) + ")")
        return False
    raise PreflightError(
        "gpu: on, but this machine cannot give the cluster a GPU:\n  - " + "\n  - ".join(found.problems()),
        hint="fix the above, or run on CPU: `gitopslab up --gpu off` (or `--gpu auto` to use a GPU when there is one)",
    )
