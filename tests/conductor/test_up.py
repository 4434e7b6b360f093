"""`gitopslab up`: stops at preflight listing every missing prerequisite and changes nothing; refuses
an incompatible settings change with the recreate command; the plan's order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab.conductor.guard import refuse_incompatible, store_settings
from gitopslab.context import Context
from gitopslab.errors import IncompatibleChange
from gitopslab.model.config import load_config
from gitopslab.stack.step import Stage
from tests.support.preflight import stand_in_tool


def _docker_state(label: str) -> dict[str, str]:
    out = {}
    for kind in ("container", "network", "volume"):
        cmd = ["docker", kind, "ls", "-q", "--filter", f"label=io.gitopslab.lab={label}"]
        if kind == "container":
            cmd = ["docker", "ps", "-aq", "--filter", f"label=io.gitopslab.lab={label}"]
        out[kind] = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    return out


@pytest.mark.engine
def test_up_without_k3d_stops_at_preflight_and_changes_nothing(engine: str, tmp_path: Path,
                                                              unique_name: str) -> None:
    # A PATH with docker and git but neither k3d nor kubectl; an empty tools dir.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("docker", "git"):
        real = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        (bindir / tool).symlink_to(real)
    state_dir = Path(os.environ["GITOPSLAB_STATE_DIR"])
    env = {**os.environ, "PATH": str(bindir), "NO_COLOR": "1", "GITOPSLAB_NAME": unique_name,
           "GITOPSLAB_NETWORK__SUBNET": "172.31.251.0/24"}
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "up"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    text = proc.stdout + proc.stderr
    assert "k3d" in text and "gitopslab tools install k3d" in text
    assert "kubectl" in text and "gitopslab tools install kubectl" in text
    assert "Traceback" not in text
    # nothing changed: no container, network or volume of the lab; no journal, no settings
    assert _docker_state(unique_name) == {"container": "", "network": "", "volume": ""}
    lab_dir = state_dir / unique_name
    assert not (lab_dir / "journal.json").exists() and not (lab_dir / "settings.json").exists()


def test_incompatible_change_is_refused_with_the_recreate_command(tmp_path: Path) -> None:
    ctx = Context.from_config(load_config(None, {}, {"name": "guarded"}))
    store_settings(ctx)
    refuse_incompatible(ctx)  # same settings: fine
    changed = Context.from_config(load_config(None, {}, {"name": "guarded", "ports": {"gitea": 3300}}))
    with pytest.raises(IncompatibleChange) as err:
        refuse_incompatible(changed)
    assert "ports" in err.value.message and "3300" in err.value.message
    assert "gitopslab destroy --yes --name guarded && gitopslab up --name guarded" in (err.value.hint or "")
    assert err.value.exit_code == 2
    stored = json.loads(ctx.state.settings_file.read_text())
    assert stored["lab"]["ports"]["gitea"] == 3000  # the refusal left the stored settings alone


def _plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings: object) -> list[Stage]:
    """`up`'s stages for these settings, with stand-in k3d and kubectl on PATH (nothing runs)."""
    from gitopslab.conductor.plan import up_stages
    from gitopslab.conductor.wiring import cluster_layer

    bindir = tmp_path / "bin"
    bindir.mkdir()
    stand_in_tool(bindir, "k3d", "k3d version v5.9.0\nk3s version v1.35.5-k3s1 (default)")
    stand_in_tool(bindir, "kubectl", '{"clientVersion": {"gitVersion": "v1.35.5"}}')
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    ctx = Context.from_config(load_config(None, {}, settings))
    return up_stages(ctx, cluster_layer(ctx))


@pytest.mark.engine
@pytest.mark.parametrize("observability", [False, True])
def test_up_plan_order(engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, observability: bool) -> None:
    """The wiring of `up`: which steps run, in which order, and which run side by side."""
    stages = _plan(tmp_path, monkeypatch, observability=observability)
    lanes = stages[0]
    assert isinstance(lanes, tuple)
    assert [s.name for s in lanes[0]] == ["compose.core", "seed.workspace", "delivery.image"]
    assert [s.name for s in lanes[1]] == ["cluster.node-image", "cluster.create", "cluster.names", "cluster.edge",
                                         "cluster.extend"]
    rest = [s.name for s in stages[1:]]  # type: ignore[union-attr]
    expected = ["gitea.seed", "compose.woodpecker", "woodpecker.wire", "cluster.app-secrets",
                "argocd.install", "argocd.configure", "argocd.password", "argocd.repository",
                "argocd.bootstrap", "argocd.webhook", "s3.users", "delivery.model",
                *(["argocd.profile-observability"] if observability else []), "argocd.synced"]
    assert rest == expected


@pytest.mark.engine
@pytest.mark.parametrize("observability", [False, True])
def test_offline_the_image_is_built_after_the_wheels_are_in_gitea(engine: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   observability: bool) -> None:
    """Offline, hello-api's build reads its packages from the lab's Gitea: it moves behind the seeding
    and the wheelhouse upload; the node's images come from the bundle right after the cluster. With the
    observability profile its chart goes into Gitea's Helm registry long before Argo CD reads it."""
    stages = _plan(tmp_path, monkeypatch, offline=True, observability=observability)
    lanes = stages[0]
    assert isinstance(lanes, tuple)
    assert [s.name for s in lanes[0]] == ["compose.core", "seed.workspace"]
    assert [s.name for s in lanes[1]] == ["cluster.create", "cluster.offline-images", "cluster.names",
                                         "cluster.edge", "cluster.extend"]
    rest = [s.name for s in stages[1:]]  # type: ignore[union-attr]
    chart = ["gitea.charts"] if observability else []
    assert rest[:4 + len(chart)] == ["gitea.seed", "gitea.wheels", "delivery.image", *chart, "compose.woodpecker"]
    assert rest.index("argocd.profile-observability") > rest.index("gitea.charts") if observability \
        else "gitea.charts" not in rest


@pytest.mark.engine
def test_destroy_then_up_with_new_settings_is_allowed(engine: str, tmp_path: Path, unique_name: str) -> None:
    """The recreate command `up`'s guard prints must work: destroy forgets the stored settings."""
    ctx = Context.from_config(load_config(None, {}, {"name": unique_name}))
    store_settings(ctx)
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "destroy", "--yes", "--name", unique_name],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    changed = Context.from_config(load_config(None, {}, {"name": unique_name, "ports": {"gitea": 3300}}))
    refuse_incompatible(changed)  # no IncompatibleChange: the old lab is gone
    assert not ctx.state.settings_file.exists()


def test_seed_workspace_carries_this_labs_urls(tmp_path: Path) -> None:
    """A lab on other ports gets a GitOps tree whose repoURLs and images name its own Gitea and registry."""
    from gitopslab.stack.delivery import prepare_workspace, workspace

    ctx = Context.from_config(load_config(None, {}, {"name": "moved", "ports": {"gitea": 3300, "registry": 5500}}))
    prepare_workspace(ctx)
    tree = workspace(ctx) / "gitops"
    text = "".join(p.read_text() for p in tree.rglob("*.y*ml"))
    assert "http://gitea.localhost:3300/platform/gitops.git" in text
    assert "gitea.localhost:3000" not in text and "registry.localhost:5002" not in text
    assert "registry.localhost:5500/hello-api" in text
    hello = workspace(ctx) / "pipelines" / "hello-api"
    assert (hello / "Dockerfile").is_file()
    from gitopslab.lint import lint
    from gitopslab.lint.policy import default_allowed_repos

    assert lint(tree, allowed_repos=default_allowed_repos(ctx.cfg)).exit_code == 0  # still a clean tree
    assert lint(tree).exit_code == 1  # and the default lab's repos are not this lab's


def test_progress_names_the_step_its_place_and_the_elapsed_time(capsys: pytest.CaptureFixture[str]) -> None:
    from gitopslab.commands import progress
    from gitopslab.conductor import runner
    from gitopslab.stack.step import FuncStep

    now = [100.0]
    steps = [FuncStep(f"s{i}", f"step number {i}", lambda c: False, lambda c: None) for i in range(3)]
    stages: list[Stage] = [steps[0], ([steps[1]], [steps[2]])]
    assert runner.step_count(stages) == 3
    printer = progress.StepPrinter(runner.step_count(stages), clock=lambda: now[0])
    printer("start", steps[0], {})
    now[0] += 252
    printer("start", steps[1], {})
    out = capsys.readouterr().out
    assert "[1/3 0:00] > step number 0" in out and "[2/3 4:12] > step number 1" in out


def test_time_summary_names_the_slowest_steps() -> None:
    from gitopslab.commands import progress
    from gitopslab.conductor import runner as orchestrator

    report = orchestrator.RunReport([orchestrator.StepOutcome("compose.core", "c", "applied", 40.0),
                                     orchestrator.StepOutcome("gitea.seed", "g", "skipped", 0.2),
                                     orchestrator.StepOutcome("argocd.synced", "a", "applied", 95.0)])
    line = progress.time_summary(report)
    assert line.index("argocd.synced 95 s") < line.index("compose.core 40 s") and "gitea.seed" not in line


@pytest.mark.engine
def test_multicluster_makes_the_production_cluster_in_a_lane_of_its_own(engine: str, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 25: the production cluster is created beside the first one (a third lane) and registered in
    Argo CD before the root app, which names it, is applied."""
    stages = _plan(tmp_path, monkeypatch, multicluster=True)
    lanes = stages[0]
    assert isinstance(lanes, tuple) and len(lanes) == 3
    assert [s.name for s in lanes[2]] == ["prd.node-image", "prd.create", "prd.names", "prd.access"]
    rest = [s.name for s in stages[1:]]  # type: ignore[union-attr]
    assert rest.index("argocd.repository") < rest.index("argocd.cluster-prd") < rest.index("argocd.bootstrap")
    (tmp_path / "one").mkdir()
    one = _plan(tmp_path / "one", monkeypatch)
    assert len(one[0]) == 2 and "argocd.cluster-prd" not in [s.name for s in one[1:]]  # type: ignore[arg-type, union-attr]


def test_multicluster_is_stored_and_not_added_or_dropped_in_place(tmp_path: Path) -> None:
    """Issue 25: the lab remembers the profile (urls, doctor, status see it), a production-cluster port of a
    one-cluster lab is no setting of it, and turning the profile on or off on a running lab is refused
    naming the flag (the GitOps tree in Gitea names the clusters)."""
    one = Context.from_config(load_config(None, {}, {"name": "mcguard"}))
    store_settings(one)
    refuse_incompatible(Context.from_config(load_config(None, {}, {"name": "mcguard",
                                                                   "ports": {"hello_api_prd": 9999}})))
    with pytest.raises(IncompatibleChange) as err:
        refuse_incompatible(Context.from_config(load_config(None, {}, {"name": "mcguard", "multicluster": True})))
    assert "multicluster: False -> True (the lab was made without its production cluster" in err.value.message
    two = Context.from_config(load_config(None, {}, {"name": "mctwo", "multicluster": True}))
    store_settings(two)
    assert "multicluster" in json.loads(two.state.settings_file.read_text())["lab"]["profiles"]
    with pytest.raises(IncompatibleChange) as err:
        refuse_incompatible(Context.from_config(load_config(None, {}, {"name": "mctwo"})))
    assert "add `--profile multicluster` to keep it so" in err.value.message
