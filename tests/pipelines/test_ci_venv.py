"""scripts/ci/common.sh's ensure_venv (issue 28 item 4): the python steps use the CI image's venv while
the checkout's requirement files are the ones it was built from, and fall back to a venv of the
workspace (installed from the index) once a participant changes one."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from gitopslab.render.pipelines import CI_REQUIREMENTS, template_dir


def _checkout(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the template's scripts and requirement files, and a CI image venv stamped for them."""
    work = tmp_path / "src"
    shutil.copytree(template_dir() / "scripts", work / "scripts")
    for name in CI_REQUIREMENTS:
        shutil.copy2(template_dir() / name, work / name)
    image_venv = tmp_path / "opt-ci-venv"
    (image_venv / "bin").mkdir(parents=True)
    (image_venv / "bin" / "python").write_text("#!/bin/sh\n")
    (image_venv / "bin" / "python").chmod(0o755)
    stamp = hashlib.sha256(b"".join((work / name).read_bytes() for name in CI_REQUIREMENTS)).hexdigest()
    (image_venv / "requirements.sha256").write_text(stamp + "\n")  # as the Dockerfile's RUN writes it
    # A workspace venv already made, so the fallback does not install from the index here.
    (work / ".ci" / "venv" / "bin").mkdir(parents=True)
    shutil.copy2(image_venv / "bin" / "python", work / ".ci" / "venv" / "bin" / "python")
    return work, image_venv


def _python_of_the_steps(work: Path, image_venv: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", '. scripts/ci/common.sh && ensure_venv && echo "$PY"'], cwd=work,
                          env={"PATH": "/usr/bin:/bin", "CI_IMAGE_VENV": str(image_venv)},
                          capture_output=True, text=True, timeout=30, check=True)


def test_unchanged_requirements_use_the_ci_images_venv(tmp_path: Path) -> None:
    work, image_venv = _checkout(tmp_path)
    done = _python_of_the_steps(work, image_venv)
    assert done.stdout.strip() == f"{image_venv}/bin/python"
    assert done.stderr == f"using the CI image's packages ({image_venv}): the requirement files are the ones it was built from\n"


def test_a_changed_requirement_falls_back_to_the_workspace_venv_and_says_why(tmp_path: Path) -> None:
    work, image_venv = _checkout(tmp_path)
    with (work / "requirements-train.txt").open("a") as fh:
        fh.write("rich==14.0.0\n")
    done = _python_of_the_steps(work, image_venv)
    assert done.stdout.strip() == ".ci/venv/bin/python"
    assert "requirements changed since the CI image was built" in done.stderr


def test_the_plain_python_image_uses_the_workspace_venv(tmp_path: Path) -> None:
    work, image_venv = _checkout(tmp_path)
    shutil.rmtree(image_venv)
    done = _python_of_the_steps(work, image_venv)
    assert done.stdout.strip() == ".ci/venv/bin/python" and done.stderr == ""
