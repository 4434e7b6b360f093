"""A bundle folder as `bundle load` leaves it: the files and the manifest that gives their sha256."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def write_loaded_bundle(folder: Path, names: list[str], body: bytes = b"x\n") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(body)
    files = [{"name": name, "sha256": hashlib.sha256(body).hexdigest()} for name in names]
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "images": [], "files": files}))
