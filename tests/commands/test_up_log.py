"""Issue 23 item 4: the up log (the file a support bundle carries) ends with what the person saw: each
failed step with its cause, and the final error with its fix."""

from __future__ import annotations

from pathlib import Path

from gitopslab import cli
from gitopslab.conductor import runner
from gitopslab.errors import EngineError, ToolError
from gitopslab.stack.step import FuncStep


def _fails(error: Exception):  # noqa: ANN202
    def act(ctx: object) -> None:
        raise error

    return act


def test_the_up_log_holds_every_failed_step_and_the_final_error(monkeypatch, unique_name, capsys):
    import gitopslab.conductor.up as conductor_up

    def stand_in_up(ctx, offer_tools, on_event, on_plan=lambda total: None):  # noqa: ANN001, ANN202
        # up's own runner over stand-in steps: two lanes fail side by side, as in the report
        lanes = ([FuncStep("compose.core", "compose layer", lambda c: False,
                           _fails(ToolError("docker compose up failed: gitea exited 1", hint="gitopslab logs gitea")))],
                 [FuncStep("cluster.create", "k3d cluster", lambda c: False,
                           _fails(EngineError("k3d cluster create failed: the engine could not pull the image "
                                              "ghcr.io/k3d-io/k3d-proxy:5.9.0: i/o timeout",
                                              hint="check the network")))])
        return runner.run(ctx, [lanes], on_event)

    monkeypatch.setattr(conductor_up, "up", stand_in_up)
    assert cli.main(["up", "--name", unique_name, "--no-doctor"]) == 1
    err = capsys.readouterr().err
    log_path = Path(next(line.split("log: ", 1)[1] for line in err.splitlines() if line.startswith("log: ")))
    text = log_path.read_text()
    assert "step compose.core failed after" in text and "docker compose up failed: gitea exited 1" in text
    assert "step cluster.create failed after" in text
    assert "up failed (exit 1):\n2 steps failed:" in text
    assert "the engine could not pull the image ghcr.io/k3d-io/k3d-proxy:5.9.0: i/o timeout" in text
    assert "fix: check the network" in text and "fix: gitopslab logs gitea" in text
