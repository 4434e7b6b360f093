"""The lab's lifecycle as one readable sequence: `up` (and the settings guard that protects it).

    preflight -> settings guard -> [compose layer || cluster layer] -> seed Gitea -> wire Woodpecker
    -> first delivery (model + image) -> Argo CD bootstrap -> wait Synced/Healthy -> doctor -> URLs
"""

from __future__ import annotations

import sys
from typing import Any

from gitopslab import orchestrator
from gitopslab.context import Context
from gitopslab.errors import IncompatibleChange, LabError
from gitopslab.orchestrator import Step

# Settings a running lab cannot take in place: the cluster, its ports, names and network are baked in
# at creation (k3d ports, hostAliases, registries.yaml, Gitea's ROOT_URL in every clone URL).
RECREATE_FIELDS = ("name", "ports", "hostnames", "network", "gpu", "images.k3s", "images.k3s-cuda-base")


def comparable_settings(ctx: Context) -> dict[str, Any]:
    data = ctx.cfg.model_dump(mode="json")
    out: dict[str, Any] = {}
    for field in RECREATE_FIELDS:
        head, _, sub = field.partition(".")
        out[field] = data.get(head, {}).get(sub) if sub else data.get(head)
    out["gpu"] = ctx.extras.get("gpu_resolved", ctx.cfg.gpu)
    return out


def guard_settings(ctx: Context) -> None:
    """Refuse a change that needs a new lab, naming what changed and the command that recreates."""
    stored = (ctx.state.stored_settings() or {}).get("lab")
    if not stored:
        return
    wanted = comparable_settings(ctx)
    changed = [k for k in RECREATE_FIELDS if k in stored and stored.get(k) != wanted.get(k)]
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
    data["lab"] = comparable_settings(ctx)
    ctx.state.store_settings(data)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def plan(ctx: Context) -> list[orchestrator.Stage]:
    """The steps of `up`, in order; a tuple is lanes that run side by side."""
    from gitopslab import stages

    return stages.up_stages(ctx)


def _printer(ctx: Context) -> orchestrator.Reporter:
    from gitopslab.ui import console

    out = console()

    def on_event(event: str, step: Step, info: dict[str, Any]) -> None:
        if event == "start":
            out.print(f"[bold]>[/] {step.title}")
        elif event == "skipped":
            out.print(f"  [green]ok[/] {step.title} [dim](already done)[/]")
        elif event == "applied":
            out.print(f"  [green]done[/] {step.title} [dim]({info['seconds']:.1f} s)[/]")
        elif event == "failed":
            out.print(f"  [red]failed[/] {step.title} [dim]({info['seconds']:.1f} s)[/]")

    return on_event


def _offer_tools(ctx: Context, ask: bool) -> None:
    """`up` installs missing k3d/kubectl after asking (or with --yes); without a terminal it never asks."""
    from gitopslab import tools

    missing = [n for n in ("k3d", "kubectl") if not tools.find(n).ok]
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

            error_console().print(f"[yellow]warning:[/] {exc.message}")


def up(ctx: Context, ask_tools: bool = True, run_doctor: bool = True) -> int:
    from gitopslab import preflight
    from gitopslab.render.urls import rows
    from gitopslab.ui import console

    out = console()
    with ctx.state.lock("up"):
        _offer_tools(ctx, ask_tools)
        preflight.ensure_preflight(ctx)
        guard_settings(ctx)
        ctx.state.secrets()  # generated once, before anything needs them
        orchestrator.run(ctx, plan(ctx), _printer(ctx))
        _store_settings(ctx)
    out.print(f"\n[bold green]lab {ctx.topo.lab} is up[/]")
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
