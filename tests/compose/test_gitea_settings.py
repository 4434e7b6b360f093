"""The Gitea service in compose/compose.yaml: no self-registration, no migrations from local networks."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "compose" / "compose.yaml"


def gitea_env() -> dict[str, str]:
    return dict(yaml.safe_load(COMPOSE.read_text())["services"]["gitea"]["environment"])


def test_nobody_can_sign_up_for_an_account() -> None:
    assert gitea_env().get("GITEA__service__DISABLE_REGISTRATION") == "true"


def test_migrations_may_not_reach_local_networks() -> None:
    # nothing in the lab migrates repositories; Gitea's default (false) keeps SSRF to the host closed
    assert "GITEA__migrations__ALLOW_LOCALNETWORKS" not in gitea_env()
