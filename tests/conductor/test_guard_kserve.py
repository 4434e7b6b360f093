"""Issue 27: `up --profile kserve` is remembered (settings.json `profiles`), so later verbs without the flag
(urls, doctor, hosts) know the model endpoint; turning the profile on for a lab made without it adds a
service, which the cluster takes in place (no recreate); ports.models of a lab without it is no setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gitopslab.conductor import guard
from gitopslab.context import Context
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.state import LabState

REPO = Path(__file__).resolve().parents[2]


def _ctx(name: str, **settings: object) -> Context:
    cfg = LabConfig(name=name, **settings)  # type: ignore[arg-type]
    return Context(cfg=cfg, topo=build(cfg), state=LabState(name))


def test_the_profile_is_stored_and_later_verbs_see_the_model_endpoint(tmp_path: Path) -> None:
    guard.store_settings(_ctx("servinglab", kserve=True))
    assert LabState("servinglab").stored_settings()["lab"]["profiles"] == ["core", "kserve"]
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO), "PATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "gitopslab", "urls", "--json", "--name", "servinglab"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    rows = json.loads(done.stdout)["data"]
    assert {"service": "Model endpoint (KServe)", "url": "http://models.localhost:8095",
            "runs_in": "cluster (ml-dev, NodePort 30980)", "profile": "kserve"} in rows


def test_turning_it_on_later_needs_no_new_lab() -> None:
    guard.store_settings(_ctx("growlab"))
    assert guard.lab_changes(_ctx("growlab", kserve=True)) == []
    # A lab without the profile does not hold ports.models: changing it asks for nothing.
    assert guard.lab_changes(_ctx("growlab", ports={"models": 18095})) == []
