"""The CUDA node image's Dockerfile: hadolint clean at warning, and its ARG defaults are the pins of
versions.py (the build passes them explicitly; the defaults must not drift for a manual build)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from gitopslab.stack.cluster_layer import shipped_dir
from gitopslab.versions import IMAGES, NVIDIA_CONTAINER_TOOLKIT_VERSION, k3s_cuda_tag

DOCKERFILE = shipped_dir("images") / "k3s-cuda" / "Dockerfile"


def test_hadolint_clean_at_warning() -> None:
    exe = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    result = subprocess.run([exe, "--failure-threshold", "warning", str(DOCKERFILE)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_defaults_are_the_pins() -> None:
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", DOCKERFILE.read_text(), flags=re.M))
    assert args == {"K3S_IMAGE": IMAGES["k3s"], "CUDA_IMAGE": IMAGES["k3s-cuda-base"],
                    "NVIDIA_CTK_VERSION": NVIDIA_CONTAINER_TOOLKIT_VERSION}


def test_built_tag_changes_with_every_input() -> None:
    base = k3s_cuda_tag(IMAGES["k3s"], IMAGES["k3s-cuda-base"])
    assert base != k3s_cuda_tag("docker.io/rancher/k3s:v1.34.1-k3s1", IMAGES["k3s-cuda-base"])
    assert base != k3s_cuda_tag(IMAGES["k3s"], "nvcr.io/nvidia/cuda:12.9.0-base-ubuntu22.04")
