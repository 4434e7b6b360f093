"""A wheelhouse tar as offline/wheelhouse.py writes one, from given file names and bytes (no pip)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path


def make_wheelhouse(dest: Path, wheels: dict[str, bytes]) -> dict[str, bytes]:
    with tarfile.open(dest, "w") as tar:
        for name, data in wheels.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return wheels


def make_wheel(folder: Path, name: str, version: str) -> Path:
    """A minimal valid pure-Python wheel (PEP 427): a package, METADATA, WHEEL and RECORD."""
    import zipfile

    dist = f"{name}-{version}"
    path = folder / f"{dist}-py3-none-any.whl"
    files = {
        f"{name}/__init__.py": f'VERSION = "{version}"\n',
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: gitopslab-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist}.dist-info/RECORD"] = "".join(f"{n},,\n" for n in files) + f"{dist}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as whl:
        for member, text in files.items():
            whl.writestr(member, text)
    return path
