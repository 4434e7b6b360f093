"""CI and Argo CD use their own Gitea users, not the site admin: the CI bot may write only the dev
overlay's two pinned files on gitops `main` (everything else there, prd pins included, still needs the
devops push rights and two approvals); Argo CD reads with a read-only token. Against the contract fake."""

from __future__ import annotations

from gitopslab.stack.gitea import rbac
from gitopslab.stack.gitea.seed import PIPELINE_TOKEN_NAME, seed_gitea
from tests.fakes.gitea import FakeGitea
from tests.stack.gitea.test_seed import exec_for


def token_of(fake: FakeGitea, value: str) -> dict:
    return fake.tokens[value]


def test_the_pipeline_token_is_the_ci_bots_and_writes_repositories_only(fake_gitea, lab_ctx, lab_conn,
                                                                        content_root):
    seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    secrets = lab_ctx.state.secrets()
    pipeline = token_of(fake_gitea, secrets["gitea_pipeline_token"])
    assert pipeline["user"] == rbac.CI_BOT and pipeline["scopes"] == ["write:repository"]
    argocd = token_of(fake_gitea, secrets["gitea_argocd_token"])
    assert argocd["user"] == rbac.ARGOCD_BOT and argocd["scopes"] == ["read:repository"]
    for bot in (rbac.CI_BOT, rbac.ARGOCD_BOT):
        assert not fake_gitea.users[bot].admin
    # the admin holds no pipeline token any more
    assert not [t for t in fake_gitea.tokens.values() if t["user"] == "gitopslab" and t["name"] == PIPELINE_TOKEN_NAME]


def test_the_ci_team_writes_gitops_only_and_main_lets_it_touch_only_the_dev_pins(fake_gitea, lab_ctx, lab_conn,
                                                                                  content_root):
    seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    team = next(t for t in fake_gitea.teams.values() if t["name"] == rbac.CI_TEAM)
    # Gitea reports a units team's access mode as "none"; the write right is in its code unit.
    assert team["units_map"]["repo.code"] == "write" and not team["includes_all_repositories"]
    assert team["repos"] == {"platform/gitops"}
    assert fake_gitea.members[team["id"]] == {rbac.CI_BOT}
    main = fake_gitea.protections["platform/gitops"]["main"]
    assert rbac.CI_TEAM not in main["push_whitelist_teams"] and main["required_approvals"] == 2
    unprotected = main["unprotected_file_patterns"].split(";")
    assert unprotected == ["clusters/app-dev/kustomization.yaml", "clusters/app-dev/model-configmap.yaml",
                           "clusters/ml-dev/models/model-configmap.yaml"]
    assert not any("prd" in p for p in unprotected)


def test_an_older_lab_moves_its_pipeline_token_from_the_admin_to_the_bot(fake_gitea, lab_ctx, lab_conn,
                                                                          content_root):
    seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    # what an older lab had: the admin's own write:repository token under the pipeline name
    old = fake_gitea.issue_token("gitopslab", PIPELINE_TOKEN_NAME, ["write:repository"])
    lab_ctx.state.put_secret("gitea_pipeline_token", old)
    result = seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    assert result.changes
    assert old not in fake_gitea.tokens
    assert token_of(fake_gitea, lab_ctx.state.secret("gitea_pipeline_token"))["user"] == rbac.CI_BOT
    again = seed_gitea(lab_ctx, exec_for(fake_gitea), content_root=content_root, http=lab_conn)
    assert again.changes == []
