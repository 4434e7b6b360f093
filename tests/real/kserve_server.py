"""KServe's model server for the real tests (issue 27), the way the kserve profile runs it, in containers:

    python deps   the `kserve` and `kserve-storage` packages from PyPI at the pinned release (versions.py
                  KSERVE_VERSION), the pipeline's scikit-learn and joblib pins; installed once with pip
                  --target into the real-stack cache (a folder per release and Python minor), mounted read-only
    sklearnserver the release's python/sklearnserver (the sklearnserver image's program), from the source
                  archive (../shared/upstream, sha256 checked by scripts/real-stack/archives.py)
    moto          moto[server] at the project's test pin, the S3 API, in a container of its own

The images are the lab's pinned `python` role (its Python minor decides the wheels). Nothing is pulled.
"""

from __future__ import annotations

import fcntl
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

from gitopslab.model.versions import IMAGES, KSERVE_VERSION, SOURCE_ARCHIVES
from tests.conftest import REPO

CACHE = Path(os.environ.get("GITOPSLAB_REAL_CACHE", Path.home() / ".cache" / "gitopslab-real"))
UPSTREAM = Path(os.environ.get("GITOPSLAB_UPSTREAM", REPO.parent / "shared" / "upstream"))
PYTHON_IMAGE = IMAGES["python"]
_TRAIN_PINS = REPO / "pipelines" / "hello-api" / "requirements-train.txt"


def _pin(name: str) -> str:
    found = re.search(rf"^{name}==(\S+)$", _TRAIN_PINS.read_text(), re.M)
    assert found, f"{_TRAIN_PINS} pins no {name}"
    return f"{name}=={found.group(1)}"


def python_minor(engine: str) -> str:
    done = subprocess.run([engine, "run", "--rm", "--entrypoint", "python3", PYTHON_IMAGE, "-c",
                           "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{PYTHON_IMAGE} runs no python3: {done.stderr}"
    return done.stdout.strip()


def pip_target(name: str, requirements: list[str], minor: str) -> Path:
    """`pip install --target` of binary wheels for the image's Python, once (a lock, a marker file)."""
    dest = CACHE / "py" / f"{name}-cp{minor.replace('.', '')}"
    marker = dest / ".gitopslab-done"
    wanted = "\n".join(requirements)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (dest.parent / f".lock-{dest.name}").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == wanted:
            return dest
        platforms = ["manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64", "any"]
        argv = [sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", "--target", str(dest),
                "--python-version", minor, "--implementation", "cp", "--only-binary=:all:",
                *[a for p in platforms for a in ("--platform", p)], *requirements]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, f"pip install --target {dest} failed:\n{done.stderr[-3000:]}"
        marker.write_text(wanted)
    return dest


def serving_deps(engine: str) -> Path:
    release = KSERVE_VERSION.lstrip("v")
    return pip_target(f"kserve-{release}", [f"kserve=={release}", f"kserve-storage=={release}",
                                             _pin("scikit-learn"), _pin("joblib")], python_minor(engine))


def moto_deps(engine: str) -> Path:
    import moto

    return pip_target(f"moto-{moto.__version__}", [f"moto[server]=={moto.__version__}"], python_minor(engine))


def sklearnserver_source() -> Path:
    """python/sklearnserver of the pinned release's source archive (extracted once, sha256 checked)."""
    archives = runpy.run_path(str(REPO / "scripts" / "real-stack" / "archives.py"))
    pin = SOURCE_ARCHIVES["kserve"]
    tree = archives["extracted"](UPSTREAM / pin.file, pin.sha256, "SOURCE_ARCHIVES['kserve']", CACHE / "src")
    return Path(tree) / "python" / "sklearnserver"
