"""`up` as one readable sequence of named steps:

    lock -> (offline: the bundle holds everything) -> preflight -> settings guard -> secrets
    -> [compose layer || cluster layer] -> seed Gitea -> wire Woodpecker -> app secrets
    -> Argo CD (install, configure, bootstrap, webhook) -> first model -> wait Synced/Healthy

The steps themselves come from the stack (gitopslab/conductor/plan.py gathers them). The face draws
progress from the events this reports and runs doctor afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

from gitopslab.conductor import guard, runner
from gitopslab.conductor.plan import up_stages
from gitopslab.conductor.wiring import cluster_layer
from gitopslab.context import Context


def up(ctx: Context, offer_tools: Callable[[list[str]], None], on_event: runner.Reporter,
       on_plan: Callable[[int], None] = lambda total: None) -> runner.RunReport:
    """Bring the lab up or resume it; raises a LabError naming the step that failed and its fix."""
    from gitopslab.doctor import preflight

    with ctx.state.lock("up"):
        if ctx.cfg.offline:  # before anything changes, and before preflight offers downloads
            from gitopslab.drivers import engine
            from gitopslab.offline.ready import require_ready

            require_ready(ctx, engine.client(ctx.engine()))
        preflight.ensure_preflight(ctx, offer_tools=offer_tools)
        layer = cluster_layer(ctx)
        guard.refuse_incompatible(ctx, layer)
        if ctx.cfg.credentials.workshop_password:
            ctx.state.use_workshop_password(ctx.cfg.credentials.workshop_password)
        ctx.state.secrets()  # generated once, before anything needs them
        stages = up_stages(ctx, layer)
        on_plan(runner.step_count(stages))
        report = runner.run(ctx, stages, on_event)
        guard.store_settings(ctx)
    return report
