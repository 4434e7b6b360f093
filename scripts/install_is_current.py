"""Exit 0 when this interpreter has gitopslab installed at the checkout's version, else 1.

start.sh and start.bat run it with .venv's python to skip `pip install` on a second start: that
install needs PyPI (the editable build fetches hatchling), which a laptop offline does not have.
Reads the version from the source, so it never imports gitopslab or its dependencies.
"""

import re
import sys
from importlib import metadata
from pathlib import Path

source = (Path(__file__).resolve().parents[1] / "gitopslab" / "__init__.py").read_text(encoding="utf-8")
match = re.search(r'^__version__ = "([^"]+)"', source, re.M)
try:
    installed = metadata.version("gitopslab")
except metadata.PackageNotFoundError:
    installed = None
sys.exit(0 if match and installed == match.group(1) else 1)
