"""Shared test rules.

- `contracts_dir`: ../shared/contracts beside the checkout. Outside CI a clone without it skips, saying
  why; in CI (CI=true) its absence is a failure, never a skip.
- `schemas_dir`: the CRD schema folder lint uses (tests/support/schemas.py): the contracts by symlink plus
  KServe's InferenceService CRD from the pinned source archive. Every test gets GITOPSLAB_SCHEMAS pointed
  at it (so CLIs run as subprocesses see it too) wherever it can be built; a test that needs it asks
  for the fixture, which skips or, in CI, fails when it cannot be built.
- `engine`: a real container engine. Tests that need one carry `@pytest.mark.engine` and use this
  fixture; in CI a missing engine fails the test (scripts/test.sh starts dockerd).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

# Fixtures shared across folders (the test tree mirrors gitopslab/): the fakes' (tests/fakes) and the
# observability profile's rendered objects (tests/support).
# tests.support.real_stack_wait: the tests that need no engine run beside scripts/test.sh's real-stack build.
pytest_plugins = ["tests.fakes.fixtures", "tests.fakes.cluster_lab", "tests.support.observability",
                  "tests.support.real_stack_wait"]

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _contracts_path() -> Path:
    env = os.environ.get("GITOPSLAB_CONTRACTS")
    return Path(env) if env else REPO.parent / "shared" / "contracts"


def need(condition: bool, reason: str) -> None:
    """Skip with the reason outside CI; fail with it in CI (a skip in CI is a hole)."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def contracts_dir() -> Path:
    path = _contracts_path()
    need(path.is_dir(), f"upstream contracts not found at {path} (clone with ../shared beside it)")
    return path


@pytest.fixture(scope="session")
def _schemas_built(tmp_path_factory: pytest.TempPathFactory) -> Path | str:
    """The schema folder, built once per session, or why it could not be."""
    from tests.support.schemas import SchemaSourceError, build_schema_dir

    contracts = _contracts_path()
    if not contracts.is_dir():
        return f"upstream contracts not found at {contracts} (clone with ../shared beside it)"
    try:
        return build_schema_dir(contracts, tmp_path_factory.mktemp("schemas"))
    except SchemaSourceError as exc:
        return str(exc)


@pytest.fixture
def schemas_dir(_schemas_built: Path | str) -> Path:
    need(isinstance(_schemas_built, Path), f"CRD schemas for lint: {_schemas_built}")
    assert isinstance(_schemas_built, Path)
    return _schemas_built


@pytest.fixture(autouse=True)
def _lint_schemas(_isolated_state: None, _schemas_built: Path | str, monkeypatch: pytest.MonkeyPatch) -> None:
    """GITOPSLAB_SCHEMAS for every test, after _isolated_state cleared the user's GITOPSLAB_* variables."""
    if isinstance(_schemas_built, Path):
        monkeypatch.setenv("GITOPSLAB_SCHEMAS", str(_schemas_built))


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    path = REPO.parent / "shared" / "seeds"
    need(path.is_dir(), f"seeds not found at {path}")
    return path


def _engine_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.fixture(scope="session")
def engine() -> str:
    """The docker CLI, once a real engine answers."""
    need(_engine_answers(), "no container engine answers (scripts/test.sh starts dockerd in CI)")
    return shutil.which("docker") or "docker"


@pytest.fixture(scope="session")
def base_image(engine: str) -> str:
    """The Debian-based Python image built offline by scripts/build-base-image.sh (cached)."""
    tag = os.environ.get("GITOPSLAB_BASE_IMAGE", "gitopslab-base:bookworm")
    subprocess.run([str(REPO / "scripts" / "build-base-image.sh"), tag], check=True)
    return tag


@pytest.fixture(scope="session")
def busybox_image(engine: str) -> str:
    tag = os.environ.get("GITOPSLAB_BUSYBOX_IMAGE", "gitopslab-busybox:latest")
    subprocess.run([str(REPO / "scripts" / "build-busybox-image.sh"), tag], check=True)
    return tag


@pytest.fixture
def unique_name() -> str:
    """A name no other test (or helper running tests on the same engine) uses."""
    return f"glt{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test writes state and tool downloads under its own tmp dir, never the user's."""
    root = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("GITOPSLAB_STATE_DIR", str(root / "state"))
    monkeypatch.setenv("GITOPSLAB_DATA_DIR", str(root / "data"))
    for var in [v for v in os.environ if v.startswith("GITOPSLAB_") and v not in
                {"GITOPSLAB_STATE_DIR", "GITOPSLAB_DATA_DIR", "GITOPSLAB_CONTRACTS",
                 "GITOPSLAB_BASE_IMAGE", "GITOPSLAB_BUSYBOX_IMAGE"}]:
        monkeypatch.delenv(var, raising=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """In CI a skipped test is a hole: report it as a failure (only `lab` tests may be deselected)."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and "lab" not in item.keywords and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {reason}"
