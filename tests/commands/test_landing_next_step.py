"""The landing page's links open in a browser (the registry's too) and, when no service answers, the
page says what to run next (issue 23, item 5); rendered by a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gitopslab.commands import landing
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from tests.commands.test_landing import _chromium
from tests.support.compose_lab import free_ports


@pytest.fixture
def everything_down() -> Iterator[landing.LandingServer]:
    ports = dict(zip(["gitea", "woodpecker", "registry", "argocd", "hello_api", "mlflow", "minio_api",
                      "minio_console", "dashboard"], free_ports(9, set()), strict=True))
    topo = build(LabConfig.model_validate({"ports": ports}))
    server = landing.LandingServer("gitopslab", landing.entries(topo, {"gitea_admin_password": "pw"}, "gitopslab"),
                                   lambda: landing.statuses(topo, lambda s: "down")).start()
    try:
        yield server
    finally:
        server.close()


def test_with_every_service_down_the_page_names_the_next_command(everything_down: landing.LandingServer) -> None:
    dom = _chromium("--dump-dom", everything_down.url).stdout
    assert '<tr data-key="gitea" class="down">' in dom  # the status script ran
    assert '<p id="next">' in dom  # shown, no longer hidden
    assert "gitopslab up" in dom and "gitopslab doctor" in dom


def test_every_link_has_a_scheme_and_the_dashboard_says_where_its_token_is() -> None:
    rows = landing.entries(build(LabConfig()), {}, "gitopslab")
    assert all(r.url.startswith("http://") for r in rows), [r.url for r in rows]
    registry = next(r for r in rows if r.key == "registry")
    assert registry.url == "http://registry.localhost:5002/v2/_catalog"
    dashboard = next(r for r in rows if r.key == "dashboard")
    assert "gitopslab creds" in dashboard.user
