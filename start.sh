#!/bin/sh
# Install gitopslab into .venv and bring the lab up. Arguments go to `gitopslab up`
# (e.g. ./start.sh --profile observability). A second start skips the install when .venv already
# holds this checkout's version, so it works offline; REINSTALL=1 forces the install.
set -eu
cd "$(dirname "$0")"
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "start.sh: $python not found; install Python 3.10 or newer (https://www.python.org/downloads/)" >&2
  exit 2
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  echo "start.sh: gitopslab needs Python >= 3.10; $("$python" --version 2>&1) found" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
if [ "${REINSTALL:-0}" != 1 ] && [ -x .venv/bin/gitopslab ] && .venv/bin/python scripts/install_is_current.py; then
  echo "gitopslab $(sed -n 's/^__version__ = "\(.*\)"$/\1/p' gitopslab/__init__.py) already installed in $(pwd)/.venv"
else
  if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e ".[lint]"; }; then
    echo "start.sh: installing gitopslab into .venv failed (the first install needs PyPI); see pip's message above" >&2
    exit 1
  fi
  echo "gitopslab installed in $(pwd)/.venv; add it to PATH with: . .venv/bin/activate"
fi
exec .venv/bin/gitopslab up "$@"
