"""The CUDA node image's Dockerfile: hadolint clean at warning; its ARG defaults and syntax line are the pins
of versions.py (the build passes the ARGs explicitly; the defaults must not drift for a manual build); it
copies the whole k3s filesystem as k3d's CUDA guide does, and starts on drivers older than its CUDA base."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

from gitopslab.model.versions import (
    DOCKERFILE_FRONTEND,
    IMAGES,
    K3S_CUDA_RECIPE,
    NVIDIA_CONTAINER_TOOLKIT_VERSION,
    k3s_cuda_tag,
)
from gitopslab.stack.cluster_layer import shipped_dir

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


def test_built_tag_names_this_recipe() -> None:
    digest = hashlib.sha256(DOCKERFILE.read_bytes().replace(b"\r\n", b"\n")).hexdigest()[:12]  # any checkout
    assert digest == K3S_CUDA_RECIPE, (f"images/k3s-cuda/Dockerfile changed: set K3S_CUDA_RECIPE = {digest!r} in "
                                       "versions.py, so labs build the new node image instead of reusing the old one")
    assert k3s_cuda_tag(IMAGES["k3s"], IMAGES["k3s-cuda-base"]).endswith(f"-{digest}")


def _instructions() -> list[tuple[str, list[str]]]:
    """(INSTRUCTION, words) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split()[0].upper(), line.split()[1:]) for line in lines]


def _final_stage() -> list[tuple[str, list[str]]]:
    steps = _instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def test_syntax_line_is_the_pinned_frontend() -> None:
    # `COPY --exclude` is generally available from Dockerfile frontend 1.19.0 on; the line makes any
    # BuildKit use that frontend rather than the one the engine happens to embed.
    assert DOCKERFILE.read_text().splitlines()[0] == f"# syntax={DOCKERFILE_FRONTEND}"


def test_node_starts_whatever_cuda_release_the_host_driver_supports() -> None:
    env = dict(word.split("=", 1) for op, words in _final_stage() if op == "ENV" for word in words if "=" in word)
    assert env["NVIDIA_DISABLE_REQUIRE"] == "true"


def test_the_whole_k3s_filesystem_is_copied_and_every_excluded_path_on_its_own() -> None:
    copies = [words for op, words in _final_stage() if op == "COPY" and "--from=k3s" in words]
    [whole] = [w for w in copies if [x for x in w if not x.startswith("--")] == ["/", "/"]]
    excluded = [flag.split("=", 1)[1] for flag in whole if flag.startswith("--exclude=")]
    # Ubuntu 22.04 (the CUDA base) has these as symlinks into /usr: BuildKit cannot copy a directory over them.
    assert sorted(excluded) == ["bin", "lib", "var/run"]
    separately = {tuple(x for x in w if not x.startswith("--")) for w in copies}
    assert {(f"/{path}", f"/{path}") for path in excluded} <= separately
