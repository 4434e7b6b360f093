"""`destroy` names the state dir it keeps (docs/INSTALLATION.md's uninstall says to delete it), and a
lab with nothing to remove is not a usage error (issue 23, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitopslab.cli import main
from gitopslab.conductor import destroy
from gitopslab.state import LabState


def test_destroy_yes_prints_the_state_dir_it_keeps(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(destroy, "destroy", lambda ctx: {"lab": "gonelab", "items": {}, "empty": True,
                                                         "notes": []})
    assert main(["destroy", "--yes", "--name", "gonelab"]) == 0
    out = capsys.readouterr().out
    assert f"kept: the state dir {LabState('gonelab').dir}" in out
    assert main(["destroy", "--yes", "--name", "gonelab", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["state_dir"] == str(LabState("gonelab").dir)


def test_destroy_with_nothing_to_remove_exits_0_without_asking(capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(destroy, "preview", lambda ctx: {"containers": [], "volumes": [], "networks": [],
                                                         "cluster": "cluster: (none)"})
    assert main(["destroy", "--name", "emptylab"]) == 0
    out = capsys.readouterr().out
    assert "nothing to remove" in out and str(LabState("emptylab").dir) in out
    monkeypatch.setattr(destroy, "preview", lambda ctx: {"containers": ["emptylab-gitea"], "volumes": [],
                                                         "networks": [], "cluster": "cluster: (none)"})
    assert main(["destroy", "--name", "emptylab"]) == 2  # something to remove: --yes is still required
