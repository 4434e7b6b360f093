"""Gitea seeding end to end against the contract fake (real sockets, real git push)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitopslab.errors import LabError
from gitopslab.stack.gitea import rbac
from gitopslab.stack.gitea.seed import ExecResult, gitea_seeded, seed_gitea
from tests.fakes.gitea import FakeGitea

pytestmark = pytest.mark.contracts


def exec_for(fake: FakeGitea, seen: list[tuple[list[str], str]] | None = None):
    def run(argv, *, user):
        if seen is not None:
            seen.append((list(argv), user))
        result = fake.exec(argv, user=user)
        return ExecResult(result.returncode, result.stdout, result.stderr)

    return run


def test_second_run_only_reads(fake_gitea, lab_ctx, lab_conn, content_root):
    seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    fake_gitea.reset_calls()
    seen: list = []
    again = seed_gitea(lab_ctx, exec_for(fake_gitea, seen), content_root=content_root, http=lab_conn)
    assert again.changes == []
    assert fake_gitea.changing_calls() == []
    assert fake_gitea.calls and seen == []
    assert gitea_seeded(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)


def test_dry_run_reports_without_changing(fake_gitea, lab_ctx, lab_conn, content_root):
    assert not gitea_seeded(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    assert fake_gitea.users == {} and fake_gitea.changing_calls() == []


def test_drift_is_repaired_with_patch(fake_gitea, lab_ctx, lab_conn, content_root):
    seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    fake_gitea.protections["platform/gitops"]["main"]["push_whitelist_teams"] = ["ml"]
    security = next(t for t in fake_gitea.teams.values() if t["name"] == "security")
    security["units_map"]["repo.code"] = "write"
    fake_gitea.reset_calls()
    result = seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    changing = fake_gitea.changing_calls()
    assert f"PATCH /api/v1/teams/{security['id']}" in changing
    assert "PATCH /api/v1/repos/platform/gitops/branch_protections/main" in changing
    assert not any(c.startswith("POST") for c in changing)
    assert fake_gitea.protections["platform/gitops"]["main"]["push_whitelist_teams"] == ["devops"]
    assert fake_gitea.teams[security["id"]]["units_map"]["repo.code"] == "read"
    assert len(result.changes) == 2


def test_lost_state_mints_new_token_and_rotates_oauth_secret(fake_gitea, lab_ctx, lab_conn, content_root):
    seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    old_secret = lab_ctx.state.secret("woodpecker_gitea_secret")
    for key in ("gitea_token", "woodpecker_gitea_secret"):
        lab_ctx.state.forget_secret(key)
    result = seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    assert [t["name"] for t in fake_gitea.tokens.values()].count("gitopslab") == 1
    assert lab_ctx.state.secret("gitea_token") in fake_gitea.tokens
    (app,) = fake_gitea.apps.values()
    assert app["client_secret"] == lab_ctx.state.secret("woodpecker_gitea_secret") != old_secret
    assert result.oauth_changed


def test_token_never_reaches_disk_or_remote_url(fake_gitea, lab_ctx, lab_conn, content_root, tmp_path):
    seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    token = lab_ctx.state.secret("gitea_token")
    pushes = [c for c in fake_gitea.calls if "git-receive-pack" in c.path and c.method == "POST"]
    assert pushes and all(c.headers["authorization"] == f"token {token}" for c in pushes)
    assert all(token not in c.path for c in fake_gitea.calls)
    for path in Path(tmp_path).rglob("*"):
        if path.is_file() and path != lab_ctx.state.secrets_file:
            assert token.encode() not in path.read_bytes(), path
    assert not any(Path(os.environ.get("TMPDIR", "/tmp")).glob("gitopslab-seed-*"))


def test_password_starting_with_a_dash_reaches_the_cli_intact(fake_gitea, lab_ctx, lab_conn, content_root):
    lab_ctx.state.put_secret("gitea_admin_password", "-starts-with-a-dash-123")
    seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    assert fake_gitea.users["gitopslab"].password == "-starts-with-a-dash-123"


def test_existing_admin_with_other_password_is_explained(fake_gitea, lab_ctx, lab_conn, content_root):
    fake_gitea.exec(["gitea", "admin", "user", "create", "--username", "gitopslab", "--password", "other-pass-123",
                     "--email", "a@b.c", "--admin", "--must-change-password=false"], user="git")
    with pytest.raises(LabError) as err:
        seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    text = str(err.value)
    assert "already has a user 'gitopslab'" in text and "change-password" in text
    assert lab_ctx.state.secret("gitea_admin_password") not in text


def test_content_folders_match_the_rbac_table():
    assert [r.source for r in rbac.REPOS] == ["gitops", "pipelines/hello-api"]
    assert {name for name, _ in rbac.RULES} == {"gitops", "hello-api"}


def test_the_admin_password_never_reaches_the_exec_argv(fake_gitea, lab_ctx, lab_conn, content_root):
    """`ps` shows a process's argv: the stored password must not be in what `docker exec` runs."""
    seen: list[tuple[list[str], str]] = []
    seed_gitea(lab_ctx, exec_for(fake_gitea, seen), content_root=content_root, http=lab_conn)
    password = lab_ctx.state.secret("gitea_admin_password")
    assert seen, "the admin was not created through the CLI"
    for argv, _ in seen:
        assert not any(password in arg for arg in argv), argv
        assert not any(arg.startswith("--password") for arg in argv), argv
    # and the admin answers to the stored password (set afterwards through the API)
    admin = fake_gitea.users["gitopslab"]
    assert admin.password == password and admin.admin and not admin.must_change_password
