"""Seed Gitea headlessly and idempotently: every step reads first and changes only what differs, so
a second run on a seeded Gitea makes GET requests only.

    admin user      `gitea admin user create --random-password ...` run as user `git` (the stored
                    password is then set through the API, never on an argv) in
                    the container (through the injected `exec_in_gitea`), skipped when basic auth works
    API tokens      `gitea_token` (the admin's, for seeding: organization, repository, user scopes)
    bots            `gitopslab-ci` (team `ci`: write on gitops, on main only the dev pins) with
                    `gitea_pipeline_token` (write:repository; the update-gitops CI step), and
                    `gitopslab-argocd` with `gitea_argocd_token` (read:repository; Argo CD), kept
                    in state with the bots' random passwords; an older lab's admin-owned pipeline
                    token is deleted
    org `platform`, teams ml / app / devops / security (gitea_rbac.TEAMS), the admin in devops
    repos           `gitops` and `hello-api`, pushed from gitops/ and pipelines/hello-api/ when empty
    protection      branch rules per gitea_rbac.RULES (GET, then POST or PATCH when they differ)
    OAuth2 app      `woodpecker`, confidential, redirect URI exactly WOODPECKER_HOST/authorize;
                    client id and secret kept in state (`woodpecker_gitea_client`/`_secret`)
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gitopslab import __version__, wait
from gitopslab.clients.gitea import GiteaClient
from gitopslab.errors import LabError, ToolError, redact
from gitopslab.resources import content_path
from gitopslab.stack.gitea import rbac
from gitopslab.stack.gitea.push import push_folder
from gitopslab.stack.lab_http import LabHTTP, lab_http

log = logging.getLogger("gitopslab.stack.gitea")

TOKEN_NAME, TOKEN_SCOPES = "gitopslab", ("write:organization", "write:repository", "write:user")
PIPELINE_TOKEN_NAME, PIPELINE_TOKEN_SCOPES = "woodpecker-update-gitops", ("write:repository",)
ARGOCD_TOKEN_NAME, ARGOCD_TOKEN_SCOPES = "argocd-read", ("read:repository",)
OAUTH_APP = "woodpecker"


@dataclass(frozen=True)
class ExecResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""


class ExecInGitea(Protocol):
    """Run argv inside the Gitea container as `user` (the engine layer provides it)."""

    def __call__(self, argv: Sequence[str], *, user: str) -> ExecResult: ...


def whales_exec(docker: Any, container: str) -> ExecInGitea:
    """ExecInGitea through a python_on_whales.DockerClient (docker or podman). A failed command comes
    back as ExecResult, never as DockerException, whose text would carry the argv (and the password)."""

    def run(argv: Sequence[str], *, user: str) -> ExecResult:
        from python_on_whales.exceptions import DockerException

        try:
            out = docker.container.execute(container, list(argv), user=user)
        except DockerException as exc:
            return ExecResult(exc.return_code, _text(exc.stdout), _text(exc.stderr))
        return ExecResult(0, str(out or ""), "")

    return run


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


@dataclass
class GiteaSeedResult:
    url: str
    admin_user: str
    org: str
    repos: dict[str, int] = field(default_factory=dict)       # name -> Gitea repo id (forge_remote_id)
    teams: dict[str, int] = field(default_factory=dict)
    oauth_client_id: str = ""
    changes: list[str] = field(default_factory=list)          # what this run changed (or would change)

    @property
    def oauth_changed(self) -> bool:
        """The OAuth client secret is new: Woodpecker must be (re)started with it."""
        return any(c.startswith("oauth2 app") for c in self.changes)


class _WouldChange(Exception):
    pass


class _Plan:
    def __init__(self, result: GiteaSeedResult, dry_run: bool) -> None:
        self.result, self.dry_run = result, dry_run

    def change(self, what: str) -> None:
        """Record a change; in a dry run stop at the first one (later steps depend on it)."""
        self.result.changes.append(what)
        if self.dry_run:
            raise _WouldChange(what)
        log.info("gitea: %s", what)


def default_content_root() -> Path:
    """The folder holding gitops/ and pipelines/ (found by gitopslab/resources.py)."""
    return content_path("gitops").parent


def seed_gitea(
    ctx: Any,
    exec_in_gitea: ExecInGitea,
    *,
    content_root: Path | None = None,
    dry_run: bool = False,
    http: LabHTTP | None = None,
) -> GiteaSeedResult:
    """Bring Gitea to the seeded state. `ctx` is gitopslab.context.Context. With dry_run, change
    nothing and return after the first needed change (`result.changes` empty = fully seeded)."""
    conn = http or lab_http(ctx)
    state, cfg = ctx.state, ctx.cfg
    password = state.secret("gitea_admin_password")
    result = GiteaSeedResult(url=conn.gitea_url, admin_user=cfg.admin_user, org=rbac.ORG)
    plan = _Plan(result, dry_run)
    try:
        with conn.gitea(basic=(cfg.admin_user, password)) as basic:
            _ensure_admin(conn, basic, exec_in_gitea, plan, cfg.admin_user, cfg.admin_email, password)
            token = _ensure_token(conn, basic, state, plan, cfg.admin_user, "gitea_token", TOKEN_NAME,
                                  TOKEN_SCOPES, lambda c: c.current_user() is not None)
        with conn.gitea(token=token) as api:
            _ensure_org(api, plan)
            _ensure_teams(api, plan, result, cfg.admin_user)
            for repo in rbac.REPOS:
                result.repos[repo.name] = _ensure_repo(api, plan, conn, token, repo,
                                                       (content_root or default_content_root()), cfg.admin_email)
            for repo_name, rule in rbac.RULES:
                _ensure_rule(api, plan, repo_name, rule)
            result.oauth_client_id = _ensure_oauth_app(api, plan, state, conn.woodpecker_url)
        with conn.gitea(basic=(cfg.admin_user, password)) as basic:
            _retire_admin_pipeline_token(basic, state, plan, cfg.admin_user)
            passwords = {bot: _ensure_bot(conn, basic, plan, state, bot) for bot, *_ in BOT_TOKENS}
            _ensure_ci_team(basic, plan, result.teams[rbac.CI_TEAM])
            for bot, key, name, scopes in BOT_TOKENS:
                with conn.gitea(basic=(bot, passwords[bot])) as as_bot:
                    _ensure_token(conn, as_bot, state, plan, bot, key, name, scopes,
                                  lambda c: c.can_read(rbac.ORG, "gitops"))
    except _WouldChange:
        pass
    return result


def gitea_seeded(ctx: Any, exec_in_gitea: ExecInGitea, **kwargs: Any) -> bool:
    """True when Gitea is fully seeded (read-only check; for the orchestrator's `done`)."""
    return not seed_gitea(ctx, exec_in_gitea, dry_run=True, **kwargs).changes


# --- steps ---------------------------------------------------------------------------------------
def _ensure_admin(conn: LabHTTP, basic: GiteaClient, run: ExecInGitea, plan: _Plan, user: str, email: str,
                  password: str) -> None:
    if basic.current_user() is not None:
        return
    plan.change(f"create admin user {user}")
    # The real password never goes on the command line (any local user sees argv in `ps`): the CLI
    # makes the user with a throwaway password it prints, and the API then sets the stored one.
    argv = ["gitea", "admin", "user", "create", f"--username={user}", f"--email={email}", "--admin",
            "--random-password", "--random-password-length=32", "--must-change-password=false"]
    done = run(argv, user="git")
    output = f"{done.stdout}\n{done.stderr}".strip()
    throwaway = re.search(r"generated random password is '([^']+)'", done.stdout)
    if done.returncode == 0 and throwaway:
        with conn.gitea(basic=(user, throwaway.group(1))) as first:
            first.admin_set_password(user, password)
        return
    output = redact(output, [throwaway.group(1)] if throwaway else [])
    if "already exists" in output:
        raise LabError(
            f"Gitea already has a user {user!r}, but it refuses the password stored in the lab's state",
            hint=f"reset it inside the container: `docker exec -it -u git <gitea container> gitea admin user "
                 f"change-password --username {user} --password <gitea_admin_password from `gitopslab creds`>`"
                 " (and clear 'must change password' in Site Administration), or `gitopslab destroy --yes`",
        )
    raise ToolError(f"`gitea admin user create` failed ({done.returncode}): {output[-400:]}",
                    hint="check that the container runs with INSTALL_LOCK=true and see `gitopslab logs gitea`")


def _ensure_token(conn: LabHTTP, basic: GiteaClient, state: Any, plan: _Plan, user: str, key: str, name: str,
                  scopes: Sequence[str], works: Callable[[GiteaClient], bool]) -> str:
    token = state.secrets().get(key, "")
    if token:
        with conn.gitea(token=token) as probe:
            if works(probe):
                return str(token)
    plan.change(f"mint API token {name} ({', '.join(scopes)})")
    if any(t.get("name") == name for t in basic.list_tokens(user)):
        basic.delete_token(user, name)  # lost from state: names are unique, so replace it
    token = basic.create_token(user, name, scopes)
    state.put_secret(key, token)
    return token


# (bot, state key of its token, token name, scopes)
BOT_TOKENS = (
    (rbac.CI_BOT, "gitea_pipeline_token", PIPELINE_TOKEN_NAME, PIPELINE_TOKEN_SCOPES),
    (rbac.ARGOCD_BOT, "gitea_argocd_token", ARGOCD_TOKEN_NAME, ARGOCD_TOKEN_SCOPES),
)


def _retire_admin_pipeline_token(basic: GiteaClient, state: Any, plan: _Plan, admin: str) -> None:
    """Labs seeded before the CI bot gave CI the admin's own token: delete it (Gitea and state)."""
    if any(t.get("name") == PIPELINE_TOKEN_NAME for t in basic.list_tokens(admin)):
        plan.change(f"delete {admin}'s token {PIPELINE_TOKEN_NAME} (CI now uses {rbac.CI_BOT})")
        basic.delete_token(admin, PIPELINE_TOKEN_NAME)
        state.forget_secret("gitea_pipeline_token")


def _ensure_bot(conn: LabHTTP, basic: GiteaClient, plan: _Plan, state: Any, bot: str) -> str:
    """A non-admin user with a random password kept in state (it only mints the bot's token); a
    password lost from state is reset, never reused."""
    key = f"gitea_{bot.replace('-', '_')}_password"
    password = state.secrets().get(key, "")
    if password:
        with conn.gitea(basic=(bot, password)) as probe:
            if probe.current_user() is not None:
                return str(password)
    password = secrets.token_urlsafe(24)
    if basic.get_user(bot) is None:
        plan.change(f"create user {bot}")
        basic.admin_create_user({"username": bot, "email": f"{bot}@gitopslab.localhost", "password": password,
                                 "must_change_password": False, "send_notify": False, "visibility": "private"})
    else:
        plan.change(f"reset the password of {bot}")
        basic.admin_set_password(bot, password)
    state.put_secret(key, password)
    return password


def _ensure_ci_team(api: GiteaClient, plan: _Plan, team_id: int) -> None:
    for repo in rbac.CI_TEAM_REPOS:
        if not api.team_has_repo(team_id, rbac.ORG, repo):
            plan.change(f"give team {rbac.CI_TEAM} {rbac.ORG}/{repo}")
            api.add_team_repo(team_id, rbac.ORG, repo)
    if not api.is_team_member(team_id, rbac.CI_BOT):
        plan.change(f"add {rbac.CI_BOT} to team {rbac.CI_TEAM}")
        api.add_team_member(team_id, rbac.CI_BOT)


def _ensure_org(api: GiteaClient, plan: _Plan) -> None:
    if api.get_org(rbac.ORG) is None:
        plan.change(f"create organization {rbac.ORG}")
        api.create_org(rbac.ORG_BODY)


def _ensure_teams(api: GiteaClient, plan: _Plan, result: GiteaSeedResult, admin: str) -> None:
    existing = {t["name"]: t for t in api.list_teams(rbac.ORG)}
    for spec in rbac.TEAMS:
        team = existing.get(spec.name)
        if team is None:
            plan.change(f"create team {spec.name} ({spec.permission})")
            team = api.create_team(rbac.ORG, spec.body())
        elif rbac.team_differs(team, spec):
            plan.change(f"update team {spec.name}")
            team = api.edit_team(int(team["id"]), spec.body())
        result.teams[spec.name] = int(team["id"])
    devops = result.teams["devops"]
    if not api.is_team_member(devops, admin):
        plan.change(f"add {admin} to team devops")
        api.add_team_member(devops, admin)


def _ensure_repo(api: GiteaClient, plan: _Plan, conn: LabHTTP, token: str, repo: rbac.RepoSpec,
                 root: Path, email: str) -> int:
    data = api.get_repo(rbac.ORG, repo.name)
    if data is None:
        plan.change(f"create repository {rbac.ORG}/{repo.name}")
        data = api.create_org_repo(rbac.ORG, repo.body())
    if data.get("empty", False):
        plan.change(f"push {repo.source}/ to {rbac.ORG}/{repo.name}")
        push_folder(root / repo.source, f"{conn.gitea_url}/{rbac.ORG}/{repo.name}.git", token=token, email=email,
                    resolve=conn.resolve, message=f"Seed {repo.name} from gitopslab {__version__}")
        _wait_for_branch(api, repo.name, conn.timeout)
    return int(data["id"])


def _wait_for_branch(api: GiteaClient, repo: str, timeout: float) -> None:
    """Gitea records a push in a queue after answering it: until then the repository still reads as
    empty (a second `up` would push again) and its contents and branch APIs answer 500 (seen with the
    real Gitea 1.26); the branch list is the one read that answers during that window."""
    def probe() -> tuple[bool, str]:
        names = api.branch_names(rbac.ORG, repo)
        return "main" in names, f"branches recorded: {names or 'none yet'}"

    wait.until(probe, component="gitea", awaited=f"Gitea to record the push to {rbac.ORG}/{repo}",
               timeout=max(timeout, 30.0), interval=0.5,
               next_command="gitopslab logs gitea; then `gitopslab up` again")


def _ensure_rule(api: GiteaClient, plan: _Plan, repo: str, rule: Mapping[str, Any]) -> None:
    name = str(rule["rule_name"])
    current = api.get_branch_protection(rbac.ORG, repo, name)
    if current is None:
        plan.change(f"protect {repo}:{name}")
        api.create_branch_protection(rbac.ORG, repo, rule)
        return
    wanted = {k: v for k, v in rule.items() if k != "rule_name"}
    if rbac.rule_differs(current, wanted):
        plan.change(f"update protection {repo}:{name}")
        api.edit_branch_protection(rbac.ORG, repo, name, wanted)


def _ensure_oauth_app(api: GiteaClient, plan: _Plan, state: Any, woodpecker_url: str) -> str:
    wanted = {"name": OAUTH_APP, "redirect_uris": [f"{woodpecker_url}/authorize"], "confidential_client": True}
    stored = state.secrets()
    app = next((a for a in api.list_oauth2_apps() if a.get("name") == OAUTH_APP), None)
    if app is None:
        plan.change("oauth2 app woodpecker: create")
        app = api.create_oauth2_app(wanted)
    elif (app.get("redirect_uris") != wanted["redirect_uris"] or app.get("confidential_client") is not True
          or stored.get("woodpecker_gitea_client") != app.get("client_id")
          or not stored.get("woodpecker_gitea_secret")):
        plan.change("oauth2 app woodpecker: update (Gitea issues a new client secret)")
        app = api.update_oauth2_app(int(app["id"]), wanted)
    else:
        return str(app["client_id"])
    state.put_secret("woodpecker_gitea_client", str(app["client_id"]))
    state.put_secret("woodpecker_gitea_secret", str(app["client_secret"]))
    return str(app["client_id"])
