"""Issue 23 item 1: when lanes fail side by side, `up` tells every failed step's cause and fix, in the
final error and under each failed step's line, not only the first lane's."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from gitopslab.commands import progress
from gitopslab.conductor import runner
from gitopslab.context import Context
from gitopslab.errors import EngineError, ToolError
from gitopslab.model.config import LabConfig
from gitopslab.stack.step import FuncStep


def _fails(error: Exception):  # noqa: ANN202
    def act(ctx: Context) -> None:
        raise error

    return act


def test_two_failed_lanes_both_tell_their_cause(tmp_path, unique_name) -> None:
    ctx = Context.from_config(LabConfig(name=unique_name))
    compose = FuncStep("compose.core", "compose layer", lambda c: False,
                       _fails(EngineError("compose up failed: port 3000 on 127.0.0.1 is taken by nginx",
                                          hint="stop nginx")))
    cluster = FuncStep("cluster.create", "k3d cluster", lambda c: False,
                       _fails(EngineError("k3d cluster create failed: the engine could not pull the image "
                                          "ghcr.io/k3d-io/k3d-proxy:5.9.0: dial tcp: i/o timeout",
                                          hint="check the network")))
    seed = FuncStep("gitea.seed", "seed Gitea", lambda c: False, lambda c: None)
    out = io.StringIO()
    printer = progress.StepPrinter(3, out=Console(file=out, width=300, no_color=True))
    with pytest.raises(runner.StepsFailed) as err:
        runner.run(ctx, [([compose], [cluster]), seed], printer)
    message, said = err.value.message, out.getvalue()
    assert message.startswith("2 steps failed:")
    assert "compose layer (compose.core): compose up failed: port 3000 on 127.0.0.1 is taken by nginx" in message
    assert "fix: stop nginx" in message
    assert "k3d cluster (cluster.create): k3d cluster create failed: the engine could not pull the image " \
           "ghcr.io/k3d-io/k3d-proxy:5.9.0" in message
    assert "fix: check the network" in message
    assert err.value.exit_code == 1
    # each failed step's line is followed by its cause as it happens; the next stage never ran
    assert "cause: compose up failed: port 3000" in said and "cause: k3d cluster create failed" in said
    assert "seed Gitea" not in said
    assert ctx.state.journal() == {}


def test_one_failed_lane_raises_its_own_error(unique_name) -> None:
    ctx = Context.from_config(LabConfig(name=unique_name))
    ok = FuncStep("a", "a", lambda c: False, lambda c: None)
    bad = FuncStep("b", "b", lambda c: False, _fails(ToolError("kubectl failed", hint="gitopslab doctor")))
    with pytest.raises(ToolError) as err:
        runner.run(ctx, [([ok], [bad])])
    assert err.value.message == "kubectl failed" and set(ctx.state.journal()) == {"a"}
