"""scripts/real-stack/build.py's cold-build plan (schedule.py): what is built, in which lanes and order, and
the totals it prints; run against a stand-in `go` on PATH, so no test compiles anything (issue 28 item 7)."""

from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from gitopslab.model.versions import REAL_STACK

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "scripts" / "real-stack"
SCHEDULE = runpy.run_path(str(REAL / "schedule.py"))
ARCHIVES = runpy.run_path(str(REAL / "archives.py"))
Task = SCHEDULE["Task"]

# A stand-in for `go`: each call is one JSON line in $FAKE_GO_LOG; `mod download -json M@V` answers a module
# folder with a go.mod; a build or install without -n leaves a file where the binary would go.
FAKE_GO = """\
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
with open(os.environ["FAKE_GO_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "cwd": os.getcwd()}) + "\\n")
if args[:2] == ["mod", "download"]:
    module, version = args[-1].split("@")
    folder = Path(os.environ["FAKE_GO_MODS"]) / f"{module.replace('/', '_')}@{version}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "go.mod").write_text(f"module {module}\\n")
    print(json.dumps({"Path": module, "Version": version, "Dir": str(folder)}))
elif args[0] in ("build", "install") and "-n" not in args:
    if args[0] == "install":
        target = Path(os.environ["GOBIN"]) / args[-1].split("@")[0].rstrip("/").split("/")[-1]
    else:
        out = args[args.index("-o") + 1]
        target = Path(out) / "binary" if out.endswith("/") else Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("stand-in binary\\n")
"""


@pytest.fixture
def fake_go(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(f"#!{sys.executable}\n{FAKE_GO}")
    go.chmod(0o755)
    return dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", FAKE_GO_LOG=str(tmp_path / "go.log"),
                FAKE_GO_MODS=str(tmp_path / "mods"), GITOPSLAB_REAL_CACHE=str(tmp_path / "cache"))


def go_calls(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "go.log"
    return [json.loads(line)["args"] for line in log.read_text().splitlines()] if log.exists() else []


def build(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REAL / "build.py"), *args], capture_output=True, text=True,
                          timeout=120, env=env)


# ---------------------------------------------------------------------------------------------- what is built


def test_every_binary_an_archive_build_makes_is_one_an_image_copies() -> None:
    """Nothing is compiled that no image (so no test) runs: woodpecker-cli was built and never used."""
    recipes = runpy.run_path(str(REAL / "build.py"))["IMAGE_RECIPES"]
    copied: dict[str, set[str]] = {}
    for recipe in (r for tier in recipes.values() for r in tier):
        dockerfile = (REAL / "images" / recipe.role / "Dockerfile").read_text()
        for program in recipe.programs:
            copied.setdefault(program, set()).update(re.findall(rf"^COPY {re.escape(program)}/(\S+) ", dockerfile, re.M))
    for program, steps in ARCHIVES["BUILDS"].items():
        if program not in copied:
            continue  # a host program (the serving tier's controller), run by its own tests
        module_tail = REAL_STACK[program].module.rstrip("/").split("/")[-1]
        made = {s.names.get(last, last) for s in steps for last in
                (module_tail if p == "." else p.rstrip("/").split("/")[-1] for p in s.packages)}
        assert made == copied[program], f"{program}: built {sorted(made)}, images copy {sorted(copied[program])}"


def test_several_tiers_are_one_plan_and_a_wrong_tier_is_named(tmp_path: Path, fake_go: dict[str, str]) -> None:
    listed = build(fake_go, "forge", "cluster", "--list")
    assert listed.returncode == 0, listed.stderr
    assert "docker.io/gitea/gitea:1.26.4" in listed.stdout.split() and str(
        tmp_path / "cache" / "bin" / "etcd-v3.7.3") in listed.stdout.split()
    wrong = build(fake_go, "forge", "clustr")
    assert wrong.returncode == 2 and "tier clustr: no such tier" in wrong.stderr and "cluster" in wrong.stderr
    zero = build(fake_go, "cluster", "--jobs", "0")
    assert zero.returncode == 2 and "--jobs 0" in zero.stderr


# ------------------------------------------------------------------------------------------------ the lanes


def test_the_longest_build_is_compiled_first() -> None:
    assert SCHEDULE["compile_order"](["etcd", "trivy", "kustomize", "kubernetes", "gitea"]) == [
        "trivy", "kubernetes", "gitea", "etcd", "kustomize"]
    assert SCHEDULE["compile_order"](["kustomize", "a-new-program"]) == ["a-new-program", "kustomize"]


def test_two_groups_compile_at_once_beside_the_other_lanes_and_the_server_waits_for_its_web_ui() -> None:
    # Each compile waits at a barrier for the other: both pass only if two run at the same time.
    both = threading.Barrier(2, timeout=30)
    order: list[str] = []
    tasks = [Task("go:trivy", "compile", lambda: (both.wait(), order.append("trivy")), group="go local jsonv2"),
             Task("go:gitea", "compile", lambda: (both.wait(), order.append("gitea")), group="go local"),
             Task("go:woodpecker", "compile", lambda: order.append("woodpecker"), after=("web:woodpecker",)),
             Task("web:woodpecker", "web", lambda: order.append("web")),
             Task("fetch:trivy", "fetch", lambda: order.append("fetch"))]
    seconds = SCHEDULE["run_lanes"](tasks, 2)
    assert set(seconds) == {t.name for t in tasks}
    assert order.index("web") < order.index("woodpecker")


def test_one_group_compiles_one_after_another_while_another_group_compiles_beside() -> None:
    """Programs of one group reuse each other's build cache only one after another (etcd: 60 s alone, 23 s
    after kwok); side by side they would compile the same packages twice."""
    trivy_started = threading.Event()
    in_group: list[str] = []
    overlaps: list[str] = []

    def member(name: str) -> Any:
        def run() -> None:
            if in_group:
                overlaps.append(f"{name} beside {in_group}")
            in_group.append(name)
            if name == "kwok":  # still running when the scheduler looks for the next task
                assert trivy_started.wait(timeout=30)
            in_group.remove(name)
        return run

    tasks = [Task("go:kwok", "compile", member("kwok"), group="go local"),
             Task("go:etcd", "compile", member("etcd"), group="go local"),
             Task("go:trivy", "compile", trivy_started.set, group="go local jsonv2")]
    SCHEDULE["run_lanes"](tasks, 2)
    assert overlaps == []


def test_trivy_and_argocd_are_build_groups_of_their_own() -> None:
    group = runpy.run_path(str(REAL / "build.py"))["build_group"]
    shared = {group(p) for p in REAL_STACK if p not in ("trivy", "argocd")}
    assert len(shared) == 1 and len({*shared, group("trivy"), group("argocd")}) == 3


def test_one_job_compiles_one_program_at_a_time() -> None:
    running: list[int] = [0]
    most: list[int] = [0]
    guard = threading.Lock()

    def compile_one() -> None:
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        with guard:
            running[0] -= 1

    SCHEDULE["run_lanes"]([Task(f"go:p{i}", "compile", compile_one) for i in range(6)], 1)
    assert most == [1]


def test_a_failure_stops_what_has_not_started_and_names_the_task() -> None:
    ran: list[str] = []
    told: list[str] = []

    def boom() -> None:
        raise RuntimeError("go build failed (2); log /cache/logs/gitea.log")

    tasks = [Task("go:gitea", "compile", boom), Task("go:etcd", "compile", lambda: ran.append("etcd"))]
    with pytest.raises(SCHEDULE["LaneError"]) as caught:
        SCHEDULE["run_lanes"](tasks, 1, told.append)
    assert caught.value.task == "go:gitea" and "gitea.log" in str(caught.value)
    assert ran == [] and told == ["go:gitea failed; nothing more starts"]


def test_a_failure_says_at_once_which_builds_it_waits_for() -> None:
    told: list[str] = []
    failed = threading.Event()

    def boom() -> None:
        raise RuntimeError("go build failed (2)")

    def long_compile() -> None:  # still under way when the other fails; finishes once that is said
        assert failed.wait(timeout=30)

    def tell(line: str) -> None:
        told.append(line)
        failed.set()

    tasks = [Task("go:trivy", "compile", long_compile), Task("go:gitea", "compile", boom, after=()),
             Task("go:etcd", "compile", lambda: None)]
    with pytest.raises(SCHEDULE["LaneError"]):
        SCHEDULE["run_lanes"](tasks, 2, tell)
    assert told == ["go:gitea failed; nothing more starts; waiting for go:trivy to finish"]


def test_a_task_waiting_on_one_not_in_the_plan_runs() -> None:
    ran: list[str] = []
    SCHEDULE["run_lanes"]([Task("go:woodpecker", "compile", lambda: ran.append("wp"), after=("web:woodpecker",))], 2)
    assert ran == ["wp"]


# ----------------------------------------------------------------------------------------- build.py, end to end


def test_a_cold_build_prints_each_program_the_sum_and_the_wall_clock(tmp_path: Path, fake_go: dict[str, str]) -> None:
    done = build(fake_go, "cluster", "--only", "etcd", "--only", "kustomize", "--only", "helm")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    for program in ("etcd", "kustomize", "helm"):
        assert any(re.fullmatch(rf"real-stack:\s+{program}\s+\d+ s", line) for line in lines), done.stderr
        assert (tmp_path / "cache" / "bin" / f"{program}-{REAL_STACK[program].version}" / ".done").is_file()
    total = [line for line in lines if "cold total:" in line]
    assert total and re.search(r"3 programs, sum of their builds \d+ s .*wall clock \d+ s .*1 compile\(s\) at a time",
                               total[0]), done.stderr
    # Warm: the .done markers are honoured, nothing runs `go`, and the recorded figures are said.
    calls = len(go_calls(tmp_path))
    again = build(fake_go, "cluster", "--only", "etcd", "--only", "kustomize", "--only", "helm")
    assert again.returncode == 0, again.stderr
    assert len(go_calls(tmp_path)) == calls
    assert "nothing to compile: 3 programs cached" in again.stderr and "cold total" not in again.stderr


def _build_namespace(tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for key in ("PATH", "FAKE_GO_LOG", "FAKE_GO_MODS", "GITOPSLAB_REAL_CACHE"):
        monkeypatch.setenv(key, env[key])
    return runpy.run_path(str(REAL / "build.py"))


def test_prefetch_downloads_with_the_builds_own_command_and_compiles_nothing(
        tmp_path: Path, fake_go: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    ns = _build_namespace(tmp_path, fake_go, monkeypatch)
    ns["prefetch"]("kustomize")
    (call,) = go_calls(tmp_path)
    assert call[:3] == ["install", "-n", "-trimpath"] and call[-1] == "sigs.k8s.io/kustomize/kustomize/v5@v5.8.1"
    assert not (tmp_path / "cache" / "bin" / "kustomize-v5.8.1").exists()
    ns["build_program"]("kustomize")
    assert go_calls(tmp_path)[-1][:2] == ["install", "-trimpath"]
    before = len(go_calls(tmp_path))
    ns["prefetch"]("kustomize")  # built: nothing left to download
    with ns["program_lock"]("helm"):  # a build under way: the download lane leaves it to that build
        ns["prefetch"]("helm")
    assert len(go_calls(tmp_path)) == before


def test_the_plan_builds_what_the_cache_lacks_with_the_web_ui_before_woodpecker(
        tmp_path: Path, fake_go: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    ns = _build_namespace(tmp_path, fake_go, monkeypatch)
    done = tmp_path / "cache" / "bin" / "etcd-v3.7.3"
    done.mkdir(parents=True)
    (done / ".done").write_text("90\n")
    tasks, todo, stale = ns["plan_tasks"](["etcd", "woodpecker", "trivy", "kwok"], [])
    assert todo == ["trivy", "woodpecker", "kwok"] and stale == []  # longest first; etcd is cached
    by_name = {t.name: t for t in tasks}
    assert set(by_name) == {"go:trivy", "go:woodpecker", "go:kwok", "fetch:trivy", "fetch:woodpecker",
                            "fetch:kwok", "web:woodpecker"}
    assert by_name["go:woodpecker"].after == ("web:woodpecker",) and by_name["web:woodpecker"].lane == "web"
    assert by_name["go:trivy"].group != by_name["go:kwok"].group == by_name["go:woodpecker"].group
