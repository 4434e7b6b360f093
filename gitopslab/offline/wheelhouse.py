"""The pipelines' Python packages for a room without PyPI: every wheel hello-api's requirements need
(serving, training, tests: requirements-dev.txt includes the others), for the step image's Python and
both Linux architectures a room's laptops run (x86_64, aarch64), in one tar file the bundle carries.

Offline, `up` uploads these wheels to the lab's own Gitea PyPI registry (stack/gitea/wheels.py), and
every pip of the lab (hello-api's image build, the CI steps, the first model) reads that index
(render/pipelines.pip_index).
"""

from __future__ import annotations

import re
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from gitopslab.drivers import proc
from gitopslab.errors import LabError
from gitopslab.model.mirrors import pip_env
from gitopslab.model.versions import IMAGES
from gitopslab.render.pipelines import template_dir

WHEELHOUSE = "wheelhouse.tar"
REQUIREMENTS = "requirements-dev.txt"
# manylinux tags pip accepts on the step image (Debian bookworm, glibc 2.36), newest first.
PLATFORMS = {arch: [f"manylinux_2_{v}_{arch}" for v in (28, 17)] + [f"manylinux2014_{arch}"]
             for arch in ("x86_64", "aarch64")}
DOWNLOAD_TIMEOUT_S = 1800
# {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl (PEP 427)
_WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


def python_version(image: str | None = None) -> str:
    """The step image's Python, from its pin (`python:3.12-slim-bookworm` -> 3.12)."""
    found = re.search(r":(\d+\.\d+)", image or IMAGES["python"])
    if not found:
        raise LabError(f"cannot tell the Python version of the step image {image!r}",
                       hint="pin images.python to a python:X.Y-... image")
    return found.group(1)


def selection(arch: str) -> list[str]:
    """pip's flags that pick the wheels the step image installs on `arch` (shared by download and
    by the test that resolves the shipped requirements)."""
    return ["--only-binary=:all:", "--implementation", "cp", "--python-version", python_version(),
            *[flag for tag in PLATFORMS[arch] for flag in ("--platform", tag)]]


def download(dest: Path, requirements: Path | None = None, index_url: str = "",
             env: dict[str, str] | None = None, run: Callable[..., proc.Completed] = proc.run) -> list[str]:
    """pip download every wheel for each architecture into one tar at `dest`; the wheel names."""
    req = requirements or template_dir() / REQUIREMENTS
    with tempfile.TemporaryDirectory(prefix="gitopslab-wheels-") as tmp:
        for arch in PLATFORMS:
            argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                    *selection(arch), "-r", str(req), "-d", tmp]
            done = run(argv, timeout=DOWNLOAD_TIMEOUT_S, env={**pip_env(index_url), **(env or {})})
            if not done.ok:
                raise LabError(f"downloading the pipelines' Python packages for {arch} failed: "
                               f"{done.last_error_line()}",
                               hint="check the network or proxy (or mirrors.pypi), then run `bundle save` again")
        names = sorted(p.name for p in Path(tmp).glob("*.whl"))
        with tarfile.open(dest, "w") as tar:
            for name in names:
                tar.add(Path(tmp) / name, name)
    return names


def wheels(path: Path) -> Iterator[tuple[str, bytes]]:
    """(file name, bytes) of every wheel in a wheelhouse tar; anything else in it is refused."""
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            if not member.isfile() or "/" in member.name or not _WHEEL.match(member.name):
                raise LabError(f"{path} holds {member.name!r}, which is not a wheel",
                               hint="save the bundle again with `gitopslab bundle save`")
            handle = tar.extractfile(member)
            assert handle is not None  # a regular file
            yield member.name, handle.read()


def name_and_version(filename: str) -> tuple[str, str]:
    found = _WHEEL.match(filename)
    if not found:
        raise LabError(f"{filename!r} is not a wheel file name", hint="save the bundle again")
    return found.group("name"), found.group("version")
