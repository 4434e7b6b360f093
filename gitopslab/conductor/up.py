"""The lab's lifecycle as one readable sequence: `up` (and the settings guard that protects it).

    preflight -> settings guard -> [compose layer || cluster layer] -> seed Gitea -> wire Woodpecker
    -> first delivery (model + image) -> Argo CD bootstrap -> wait Synced/Healthy -> doctor -> URLs
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape

from gitopslab.conductor import runner as orchestrator
from gitopslab.context import Context
from gitopslab.errors import IncompatibleChange, LabError
from gitopslab.stack.step import Stage, Step

# Settings a running lab cannot take in place: the cluster, its ports, names and network are baked in
# at creation (k3d ports, hostAliases, registries.yaml, Gitea's ROOT_URL in every clone URL).
RECREATE_FIELDS = ("name", "ports", "hostnames", "network", "gpu", "images.k3s", "images.k3s-cuda-base")
# Per-service settings: a profile turned on adds services, which the cluster takes in place
# (stack/cluster_additions.py); only a service both labs have must keep its port and name.
_PER_SERVICE = ("ports", "hostnames")


def _inactive_services(ctx: Context) -> tuple[set[str], set[str]]:
    """Port keys and hostnames of the services of profiles this lab does not run."""
    from gitopslab.model.topology import build

    everything = build(ctx.cfg.model_copy(update={"observability": True}))
    keys = {s.key for s in ctx.topo.services}
    names = {s.hostname for s in ctx.topo.services}
    return ({s.key for s in everything.services if s.key not in keys},
            {s.hostname for s in everything.services if s.hostname not in names})


def comparable_settings(ctx: Context) -> dict[str, Any]:
    data = ctx.cfg.model_dump(mode="json")
    out: dict[str, Any] = {}
    for field in RECREATE_FIELDS:
        head, _, sub = field.partition(".")
        out[field] = data.get(head, {}).get(sub) if sub else data.get(head)
    out["gpu"] = ctx.extras.get("gpu_resolved", ctx.cfg.gpu)
    # An unused service's port or name is no setting of this lab: changing it needs no new lab.
    keys, names = _inactive_services(ctx)
    out["ports"] = {k: v for k, v in out["ports"].items() if k not in keys}
    out["hostnames"] = {k: v for k, v in out["hostnames"].items() if v not in names}
    return out


def _changed(field: str, old: Any, new: Any) -> bool:
    if field in _PER_SERVICE and isinstance(old, dict) and isinstance(new, dict):
        return any(old[k] != new[k] for k in old.keys() & new.keys())
    return bool(old != new)


def guard_settings(ctx: Context) -> None:
    """Refuse a change that needs a new lab, naming what changed and the command that recreates."""
    stored = (ctx.state.stored_settings() or {}).get("lab")
    if not stored:
        return
    wanted = comparable_settings(ctx)
    changed = [k for k in RECREATE_FIELDS if k in stored and _changed(k, stored.get(k), wanted.get(k))]
    if not changed:
        return
    detail = "; ".join(f"{k}: {_short(stored.get(k))} -> {_short(wanted.get(k))}" for k in changed)
    flags = " ".join(f"--profile {p}" for p in ctx.cfg.profiles if p != "core")
    raise IncompatibleChange(
        f"lab {ctx.topo.lab!r} was created with other settings that cannot change in place ({detail})",
        hint=f"keep the old settings, or recreate the lab (its data is deleted): "
             f"gitopslab destroy --yes --name {ctx.topo.lab} && gitopslab up --name {ctx.topo.lab} {flags}".rstrip(),
    )


def _store_settings(ctx: Context) -> None:
    data = dict(ctx.state.stored_settings() or {})  # the cluster layer keeps its own part under "cluster"
    # profiles: read by `hosts` (the names of every profile turned on; a later `up` without its flag
    # removes nothing, so the names stay wanted); not compared by the guard
    before = (data.get("lab") or {}).get("profiles") or []
    profiles = [p for p in ("core", "gpu", "observability") if p in ctx.cfg.profiles or p in before]
    data["lab"] = {**comparable_settings(ctx), "profiles": profiles}
    ctx.state.store_settings(data)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def plan(ctx: Context) -> list[Stage]:
    """The steps of `up`, in order; a tuple is lanes that run side by side."""
    from gitopslab.conductor import plan as stages

    return stages.up_stages(ctx)


def step_count(stages: list[Stage]) -> int:
    return sum(sum(len(lane) for lane in stage) if isinstance(stage, tuple) else 1 for stage in stages)


def _printer(ctx: Context, total: int, clock: Callable[[], float] = time.monotonic) -> orchestrator.Reporter:
    """One line per step with its place and the time since `up` began: `[7/19 4:12] > title`."""
    from gitopslab.ui import console

    out, began, started = console(), clock(), [0]

    def where() -> str:
        elapsed = int(clock() - began)
        return f"[dim][{started[0]}/{total} {elapsed // 60}:{elapsed % 60:02d}][/]"

    def on_event(event: str, step: Step, info: dict[str, Any]) -> None:
        title = escape(step.title)
        if event == "start":
            started[0] += 1
            out.print(f"{where()} [bold]>[/] {title}")
        elif event == "skipped":
            out.print(f"  [green]ok[/] {title} [dim](already done)[/]")
        elif event == "applied":
            out.print(f"  [green]done[/] {title} [dim]({info['seconds']:.1f} s)[/]")
        elif event == "failed":
            out.print(f"  [red]failed[/] {title} [dim]({info['seconds']:.1f} s)[/]")

    return on_event


def pull_printer(clock: Callable[[], float] = time.monotonic, every: float = 5.0,
                 out: Console | None = None) -> Callable[[Any], None]:
    """Image pulls as lines (they run in parallel lanes, so no live bar): each pull's bytes, rate and
    estimate at most every `every` seconds, and one line when it has finished."""
    from gitopslab.ui import console

    out = out or console()
    shown: dict[str, float] = {}
    lock = threading.Lock()

    def on_progress(progress: Any) -> None:
        now = clock()
        with lock:
            if not progress.finished and now - shown.get(progress.image, -every) < every:
                return
            shown[progress.image] = now
        out.print(f"    {progress.line()}", markup=False, style="dim")

    return on_progress


def time_summary(report: orchestrator.RunReport, top: int = 5) -> str:
    """Where the time went: the slowest steps that did work, and the total."""
    applied = sorted((o for o in report.outcomes if o.action == "applied"), key=lambda o: -o.seconds)
    if not applied:
        return "nothing to do: every step was already done"
    total = sum(o.seconds for o in report.outcomes)
    parts = ", ".join(f"{o.name} {o.seconds:.0f} s" for o in applied[:top])
    return f"where the time went (steps, lanes overlap): {parts}; {total:.0f} s of step time in all"


def _offer_tools(missing: list[str], ask: bool) -> None:
    """`up` installs missing k3d/kubectl after asking (or with --yes); without a terminal it never asks.
    Preflight calls it only when these tools are all that is missing (the engine answers, ...)."""
    from gitopslab.drivers import tools

    if not missing:
        return
    if ask:
        if not sys.stdin.isatty():
            return  # preflight lists them with their install hint
        reply = input(f"{', '.join(missing)} not found; download the pinned release(s) now? [y/N] ")
        if reply.strip().lower() not in {"y", "yes"}:
            return
    for name in missing:
        try:
            tools.install(name)
        except LabError as exc:  # preflight reports the tool as missing with this reason
            from gitopslab.ui import error_console

            error_console().print(f"[yellow]warning:[/] {escape(exc.message)}")


def up(ctx: Context, ask_tools: bool = True, run_doctor: bool = True) -> int:
    from gitopslab.doctor import preflight
    from gitopslab.render.urls import rows
    from gitopslab.ui import console

    out = console()
    with ctx.state.lock("up"):
        if ctx.cfg.offline:  # before anything changes, and before preflight offers downloads
            from gitopslab.drivers import engine
            from gitopslab.offline.ready import require_ready

            require_ready(ctx, engine.client(engine.detect(ctx.cfg.engine)))
        preflight.ensure_preflight(ctx, offer_tools=lambda missing: _offer_tools(missing, ask_tools))
        guard_settings(ctx)
        if ctx.cfg.credentials.workshop_password:
            ctx.state.use_workshop_password(ctx.cfg.credentials.workshop_password)
        ctx.state.secrets()  # generated once, before anything needs them
        stages = plan(ctx)
        ctx.progress = pull_printer()
        run_report = orchestrator.run(ctx, stages, _printer(ctx, step_count(stages)))
        _store_settings(ctx)
    out.print(f"\n[bold green]lab {escape(ctx.topo.lab)} is up[/]")
    out.print(time_summary(run_report), markup=False, style="dim")
    for row in rows(ctx.topo):
        out.print(f"  {row['service']:<30} {row['url']}", markup=False)
    out.print(f"credentials: gitopslab creds   (stored in {ctx.state.secrets_file}, mode 0600)", markup=False)
    if run_doctor:
        from gitopslab.doctor import run_doctor as doctor_run
        from gitopslab.doctor.output import print_table

        report = doctor_run(ctx)
        print_table(report)
        return int(report.exit_code)
    return 0
