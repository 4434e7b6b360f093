"""Fixtures around the contract fakes (import them into a test module to use them).

Each fake fails the test at teardown if it recorded a contract violation, even one the code under test
caught: the real service would have done something else silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitopslab.clients.http import RetryPolicy
from gitopslab.context import Context
from gitopslab.model.config import LabConfig, Ports
from gitopslab.stack.gitea.seed import ExecResult, GiteaSeedResult, seed_gitea
from gitopslab.stack.lab_http import LabHTTP, lab_http
from tests.fakes.gitea import FakeGitea
from tests.fakes.swagger import Spec
from tests.fakes.woodpecker import FakeWoodpecker

FAST_RETRY = RetryPolicy(attempts=4, budget_s=5.0, wait_initial_s=0.01, wait_max_s=0.05)


@pytest.fixture(scope="session")
def gitea_spec(contracts_dir: Path) -> Spec:
    return Spec(contracts_dir / "gitea-swagger.v1.json")


@pytest.fixture(scope="session")
def woodpecker_spec(contracts_dir: Path) -> Spec:
    return Spec(contracts_dir / "woodpecker-swagger.json", wildcard_params=("repo_full_name",))


def _no_violations(*fakes: object) -> None:
    found = [v for fake in fakes for v in getattr(fake, "violations", [])]
    if found:
        pytest.fail("contract violations:\n" + "\n".join(f"- {v}" for v in found), pytrace=False)


@pytest.fixture
def fake_gitea(gitea_spec: Spec, tmp_path: Path) -> Iterator[FakeGitea]:
    fake = FakeGitea(gitea_spec, tmp_path / "gitea").start()
    yield fake
    fake.stop()
    _no_violations(fake)


@pytest.fixture
def fake_woodpecker(woodpecker_spec: Spec, fake_gitea: FakeGitea) -> Iterator[FakeWoodpecker]:
    fake = FakeWoodpecker(woodpecker_spec, fake_gitea, admins=("gitopslab",)).start()
    yield fake
    fake.stop()
    _no_violations(fake)


@pytest.fixture
def lab_ctx(fake_gitea: FakeGitea, fake_woodpecker: FakeWoodpecker) -> Context:
    """A lab whose Gitea and Woodpecker ports are the fakes' (state under the test's tmp dir)."""
    cfg = LabConfig(ports=Ports(gitea=fake_gitea.port, woodpecker=fake_woodpecker.port))
    return Context.from_config(cfg)


@pytest.fixture
def lab_conn(lab_ctx: Context) -> LabHTTP:
    return lab_http(lab_ctx, retry=FAST_RETRY)


@pytest.fixture
def woodpecker_seeded(fake_gitea: FakeGitea, fake_woodpecker: FakeWoodpecker, lab_ctx: Context, lab_conn: LabHTTP,
                      content_root: Path) -> GiteaSeedResult:
    """Gitea seeded, and Woodpecker (re)configured with the OAuth app's id and secret from state, as the
    compose layer does after seeding; Gitea's recorded calls cleared, so a test sees only the wiring's."""
    def run(argv: list[str], *, user: str) -> ExecResult:
        r = fake_gitea.exec(argv, user=user)
        return ExecResult(r.returncode, r.stdout, r.stderr)

    result = seed_gitea(lab_ctx, run, content_root=content_root, http=lab_conn)
    fake_woodpecker.client_id = lab_ctx.state.secret("woodpecker_gitea_client")
    fake_woodpecker.client_secret = lab_ctx.state.secret("woodpecker_gitea_secret")
    fake_gitea.reset_calls()
    return result


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    """Seed content shaped like the repo's gitops/ and pipelines/hello-api/."""
    root = tmp_path / "content"
    files = {
        "gitops/bootstrap/root-app.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n",
        "gitops/clusters/app-dev/kustomization.yaml": "images:\n  - name: hello-api\n    newTag: \"initial\"\n",
        "gitops/.keep": "",
        "pipelines/hello-api/app/main.py": "print('hello')\n",
        "pipelines/hello-api/.woodpecker/build.yaml": "steps:\n  - name: test\n    image: python:3.12\n",
        "pipelines/hello-api/__pycache__/junk.pyc": "x",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
