"""Issue 27: with the kserve profile, `gitopslab urls` and the landing page list the model endpoint
(models.localhost, KServe's v1/v2 server in ml-dev) from the topology; without it, neither does."""

from __future__ import annotations

import json

import pytest

from gitopslab.cli import main
from gitopslab.commands.landing import entries
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build


def test_urls_lists_the_model_endpoint_only_with_the_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["urls", "--name", "urlskserve", "--profile", "kserve", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["data"]
    [models] = [r for r in rows if r["profile"] == "kserve"]
    assert models == {"service": "Model endpoint (KServe)", "url": "http://models.localhost:8095",
                      "runs_in": "cluster (ml-dev, NodePort 30980)", "profile": "kserve"}
    assert main(["urls", "--name", "urlscore", "--json"]) == 0
    assert not [r for r in json.loads(capsys.readouterr().out)["data"] if r["profile"] == "kserve"]


def test_the_landing_page_links_it() -> None:
    rows = entries(build(LabConfig(kserve=True)), {}, "gitopslab")
    [models] = [r for r in rows if "models.localhost" in json.dumps(r.__dict__)]
    assert "http://models.localhost:8095" in json.dumps(models.__dict__)
