"""How scripts/real-stack/build.py spends a cold build's wall clock (loaded with runpy; standard library only).

A cold build is mostly `go build`, and one `go build` keeps two cores busy only part of the time: the
link and the long chains of packages waiting on one another leave a core idle (etcd, cold, on this 2-core
machine: 60 s of wall clock for 81 s of CPU, 134 %). Module downloads, Woodpecker's npm install and the
debootstrap of the images' Debian bases wait on the network and the disk. So a build runs in lanes:

- "compile": the longest first (COLD_SECONDS), each once what it needs is there (Woodpecker's server
  embeds its web UI), up to `jobs` at a time but never two of one build group at once. build.py's
  default is 1: on this busy 2-core machine two at a time were slower even across groups (Argo CD
  beside kwok, etcd and kustomize: 898 s of wall clock and 883 s of CPU, one after another 724 s and
  782 s), so `--jobs 2` is for a machine with cores to spare.
  A group is the programs whose packages can be the same build-cache entries (one Go toolchain, one
  GOEXPERIMENT): one after another, each takes what the one before compiled (measured: etcd alone 60 s,
  after kwok 23 s), where side by side both would compile the same standard library and shared modules
  (etcd, kwok and kustomize two at a time: 286 s of CPU, one after another 248 s). trivy (GOEXPERIMENT
  jsonv2) and Argo CD (Go 1.27) share no package with the others, so they compile beside them;
- "fetch": the next programs' modules, downloaded while the current ones compile (the build's own
  `go` command with `-n`: it loads every package, so it downloads exactly the modules the build will
  need, and compiles nothing);
- "web": Woodpecker's web UI (pnpm install, vite build), beside the Go compiles;
- "bases": the Debian bases the images need (debootstrap);
- the images last, once their programs and bases are there (seconds each).

Every Go program shares the one module cache and build cache (`go env GOMODCACHE GOCACHE`) and the same
`-trimpath`, so a package one program compiled is taken from the build cache by the next wherever the
versions and settings match (the standard library first of all).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Each program's cold build in seconds, from the last cold build end to end (2026-12-07, `CI=true .ci/run` in
# a fresh clone with empty module, build and program caches, downloads included, on this 2-core machine,
# 973 engine-free tests beside it for its first 19 minutes): 27 min of compiles, 28 min of wall clock.
# It orders the compile lane, longest first (a long build started last would finish alone on a half-idle
# machine), and gives the estimate said up front. Woodpecker's is its Go build alone; its web UI (71 s)
# is built beside the compiles.
COLD_SECONDS: dict[str, int] = {
    "trivy": 492, "argocd": 190, "kubernetes": 188, "kserve-controller": 180, "gitea": 137, "woodpecker": 135,
    "minio-upstream": 85, "helm": 77, "kwok": 48, "registry": 42, "kaniko-executor": 42, "etcd": 12,
    "kustomize": 8, "plugin-git": 2,
}
DEFAULT_SECONDS = 300
LANES = ("compile", "fetch", "web", "bases")


class LaneError(RuntimeError):
    """A task failed; `task` names it, the message is the task's own error."""

    def __init__(self, task: str, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.task = task
        self.cause = cause


@dataclass(frozen=True)
class Task:
    name: str
    lane: str
    run: Callable[[], None]
    after: tuple[str, ...] = ()  # tasks that must have finished first (names absent from the plan count as done)
    group: str = ""  # tasks of one non-empty group never run at the same time


def compile_order(programs: Iterable[str]) -> list[str]:
    """Longest first, by the last measured cold build; ties keep the given order."""
    return sorted(programs, key=lambda p: -COLD_SECONDS.get(p, DEFAULT_SECONDS))


def next_ready(pending: list[Task], finished: set[str], planned: set[str],
               busy_groups: Iterable[str] = ()) -> Task | None:
    """The first pending task whose every `after` is finished or not planned at all, and whose group has
    no task running."""
    busy = set(busy_groups)
    for task in pending:
        if task.group and task.group in busy:
            continue
        if all(dep in finished or dep not in planned for dep in task.after):
            return task
    return None


def run_lanes(tasks: list[Task], jobs: int, tell: Callable[[str], None] = lambda _: None) -> dict[str, float]:
    """Run every task in its lane (`jobs` workers for "compile", one for each other lane); return each task's
    seconds. On the first failure no task starts any more and `tell` says so at once; the running ones
    finish (a compile under way is kept in the cache for the next run); then LaneError is raised."""
    unknown = {t.lane for t in tasks} - set(LANES)
    if unknown:
        raise ValueError(f"unknown lane(s) {sorted(unknown)}; lanes are {LANES}")
    planned = {t.name for t in tasks}
    pending = {lane: [t for t in tasks if t.lane == lane] for lane in LANES}
    finished: set[str] = set()
    seconds: dict[str, float] = {}
    failures: list[LaneError] = []
    running: set[str] = set()
    groups = {t.name: t.group for t in tasks}
    cond = threading.Condition()

    def worker(lane: str) -> None:
        while True:
            with cond:
                while True:
                    if failures or not pending[lane]:
                        return
                    task = next_ready(pending[lane], finished, planned, {groups[n] for n in running} - {""})
                    if task is not None:
                        pending[lane].remove(task)
                        running.add(task.name)
                        break
                    cond.wait()
            started = time.monotonic()
            try:
                task.run()
            except BaseException as exc:  # noqa: BLE001 - carried to the caller, named after its task
                with cond:
                    failures.append(LaneError(task.name, exc))
                    running.discard(task.name)
                    cond.notify_all()
                    still = sorted(running)
                tell(f"{task.name} failed; nothing more starts" + (f"; waiting for {', '.join(still)} to finish"
                                                                   if still else ""))
                return
            with cond:
                seconds[task.name] = time.monotonic() - started
                finished.add(task.name)
                running.discard(task.name)
                cond.notify_all()

    workers = [threading.Thread(target=worker, args=(lane,), name=f"{lane}-{i}", daemon=True)
               for lane in LANES for i in range(jobs if lane == "compile" else 1) if pending[lane]]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if failures:
        raise failures[0]
    return seconds


def report(built: dict[str, float], wall: float, jobs: int, recorded: dict[str, int],
           beside: dict[str, float] | None = None) -> list[str]:
    """The lines a build ends with: each program built now and its seconds, their sum beside the wall
    clock (and the side lanes' web UI and bases); or, when the cache had every program, what its .done
    markers recorded for their cold builds."""
    if not built:
        total = sum(recorded.values())
        lines = [f"nothing to compile: {len(recorded)} programs cached, their recorded cold builds add up to "
                 f"{total} s ({total / 60:.0f} min)"]
        return lines + [f"  {name:<20} {secs:>6} s (cached)" for name, secs in sorted(recorded.items(), key=lambda kv: -kv[1])]
    total = sum(built.values())
    lines = [f"  {name:<20} {secs:>6.0f} s" for name, secs in sorted(built.items(), key=lambda kv: -kv[1])]
    lines += [f"  {name:<20} {secs:>6.0f} s (beside the compiles)" for name, secs in sorted((beside or {}).items())]
    return lines + [f"cold total: {len(built)} programs, sum of their builds {total:.0f} s ({total / 60:.0f} min), "
                    f"wall clock {wall:.0f} s ({wall / 60:.0f} min), {jobs} compile(s) at a time"]
