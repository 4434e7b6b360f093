"""Behind a proxy, `up` puts the proxy's URLs into Woodpecker as secrets (issue 22.7): the pipeline's
build-proxy step reads them with `from_secret` (render/pipelines.py), so a proxy login reaches the CI
image build without entering the repository Gitea keeps. Against the contract fake, which keeps the
values that the real Woodpecker's API never returns."""

from __future__ import annotations

import dataclasses

import pytest

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.stack.lab_http import lab_http
from gitopslab.stack.woodpecker_wire import PIPELINE_SECRETS, wire_woodpecker
from tests.fakes.fixtures import FAST_RETRY

pytestmark = pytest.mark.contracts

PROXY = "http://alice:s3cret@proxy.corp:3128"


def test_the_proxy_urls_become_secrets_the_build_proxy_step_reads(woodpecker_seeded, fake_woodpecker, lab_ctx):
    cfg = LabConfig(ports=lab_ctx.cfg.ports, proxy={"http_proxy": PROXY, "https_proxy": PROXY})
    proxied = dataclasses.replace(lab_ctx, cfg=cfg, topo=build(cfg))
    result = wire_woodpecker(proxied, forge_remote_id=woodpecker_seeded.repos["hello-api"],
                             http=lab_http(proxied, retry=FAST_RETRY))
    (repo,) = fake_woodpecker.repos.values()
    stored = fake_woodpecker.secrets[repo["id"]]
    assert set(stored) == {*PIPELINE_SECRETS, "lab_http_proxy", "lab_https_proxy"} == set(result.secrets)
    assert stored["lab_http_proxy"]["value"] == stored["lab_https_proxy"]["value"] == PROXY
    assert stored["lab_http_proxy"]["events"] == stored["gitea_token"]["events"]
    # A second run changes nothing (values are write-only in Woodpecker: the digests in state tell).
    fake_woodpecker.reset_calls()
    again = wire_woodpecker(proxied, http=lab_http(proxied, retry=FAST_RETRY))
    assert again.changes == [] and fake_woodpecker.changing_calls() == []
