"""Woodpecker wiring against the contract fakes, for what the real server (tests/real/test_woodpecker.py:
first run, second run, a stale token, a disabled cron and a rotated secret, destroy and up again) cannot
show: the secret values (write-only in Woodpecker), the headers of each sign-in request, and faults the
real server will not produce on demand (a 409 race on activation, registration closed, a wrong OAuth
secret, a wrong admin password)."""

from __future__ import annotations

import pytest

from gitopslab.errors import HTTPServiceError
from gitopslab.stack.gitea import rbac
from gitopslab.stack.woodpecker_wire import PIPELINE_SECRETS, wire_woodpecker

pytestmark = pytest.mark.contracts


def test_first_run_signs_in_activates_and_sets_secrets_and_cron(woodpecker_seeded, fake_gitea, fake_woodpecker, lab_ctx, lab_conn):
    result = wire_woodpecker(lab_ctx, forge_remote_id=woodpecker_seeded.repos["hello-api"], http=lab_conn)

    # the OAuth dance went through Gitea's web routes, consent included, with one session
    web = [f"{c.method} {c.path}" for c in fake_gitea.calls if not c.path.startswith("/api/")]
    assert web[:3] == ["POST /user/login", "GET /login/oauth/authorize", "POST /login/oauth/grant"]
    assert "POST /login/oauth/access_token" in web  # Woodpecker's server-side exchange
    token = lab_ctx.state.secret("woodpecker_token")
    assert fake_woodpecker.tokens[token] == "gitopslab"
    assert not any("origin" in c.headers or "sec-fetch-site" in c.headers for c in fake_gitea.calls)

    # hello-api active, and Woodpecker (not gitopslab) created the Gitea hook
    (repo,) = fake_woodpecker.repos.values()
    assert repo["full_name"] == "platform/hello-api" and repo["active"] and result.repo_id == repo["id"]
    assert repo["forge_remote_id"] == str(woodpecker_seeded.repos["hello-api"])
    assert len(fake_gitea.hooks["platform/hello-api"]) == 1

    # secrets: every one the pipeline reads, with events, the right values
    stored = fake_woodpecker.secrets[repo["id"]]
    assert set(stored) == set(PIPELINE_SECRETS) == set(result.secrets)
    assert all(s["events"] for s in stored.values())
    assert stored["gitea_token"]["value"] == lab_ctx.state.secret("gitea_pipeline_token")
    # CI holds its own S3 user (write ml-models only), never the store's root login.
    assert stored["minio_access_key"]["value"] == "gitopslab-ci" != lab_ctx.state.secret("minio_root_user")
    assert stored["minio_secret_key"]["value"] == lab_ctx.state.secret("s3_ci_secret_key")
    assert lab_ctx.state.secret("minio_root_password") not in {s["value"] for s in stored.values()}

    # cron: enabled (an omitted `enabled` would never run)
    (cron,) = fake_woodpecker.crons[repo["id"]].values()
    assert cron["enabled"] is True and cron["branch"] == "main" and len(cron["schedule"].split()) == 5
    assert result.cron_id == cron["id"]




def test_already_active_repo_409_is_accepted(woodpecker_seeded, fake_woodpecker, lab_ctx, lab_conn):
    wire_woodpecker(lab_ctx, http=lab_conn)
    (repo,) = fake_woodpecker.repos.values()
    repo["active"] = False  # lookup says inactive, but the forge id is active on another record
    fake_woodpecker.repos[999] = dict(repo, id=999, full_name="platform/hello-api-renamed", active=True)
    result = wire_woodpecker(lab_ctx, http=lab_conn)
    assert "POST /api/repos" in fake_woodpecker.changing_calls()
    assert result.repo_id == repo["id"]








def test_registration_closed_is_explained(woodpecker_seeded, fake_woodpecker, lab_ctx, lab_conn):
    fake_woodpecker.admins = set()
    with pytest.raises(HTTPServiceError) as err:
        wire_woodpecker(lab_ctx, http=lab_conn)
    assert "registration closed" in str(err.value) and "WOODPECKER_ADMIN" in str(err.value)


def test_wrong_oauth_secret_is_explained(woodpecker_seeded, fake_woodpecker, lab_ctx, lab_conn):
    fake_woodpecker.client_secret = "not-the-secret"
    with pytest.raises(HTTPServiceError) as err:
        wire_woodpecker(lab_ctx, http=lab_conn)
    assert "exchange the OAuth code" in str(err.value) and "WOODPECKER_GITEA_URL" in str(err.value)


def test_wrong_admin_password_is_explained(woodpecker_seeded, lab_ctx, lab_conn):
    lab_ctx.state.put_secret("gitea_admin_password", "not-the-password")
    with pytest.raises(HTTPServiceError) as err:
        wire_woodpecker(lab_ctx, http=lab_conn)
    assert "refused the web sign-in" in str(err.value)
    assert "not-the-password" not in str(err.value)


def test_ci_secrets_name_the_bot_and_reach_no_pull_request_or_tag(woodpecker_seeded, fake_gitea, fake_woodpecker, lab_ctx,
                                                                  lab_conn):
    """The pipeline's Gitea identity is the CI bot (write on the dev pins only), never the admin; the
    secrets reach only the events the shipped pipelines run on (push/manual on main, the nightly cron)."""
    wire_woodpecker(lab_ctx, forge_remote_id=woodpecker_seeded.repos["hello-api"], http=lab_conn)
    (repo,) = fake_woodpecker.repos.values()
    stored = fake_woodpecker.secrets[repo["id"]]
    assert stored["gitea_username"]["value"] == rbac.CI_BOT
    assert fake_gitea.tokens[stored["gitea_token"]["value"]]["user"] == rbac.CI_BOT
    for name, secret in stored.items():
        assert set(secret["events"]) <= {"push", "manual", "cron"}, name
