"""Wire Woodpecker to the seeded Gitea headlessly and idempotently (a second run only reads).

    token       signed in as the Gitea admin through the OAuth flow (clients.woodpecker_login),
                personal token kept in state as `woodpecker_token`; reused while it works
    activation  platform/hello-api (`POST /api/repos?forge_remote_id=`; 409 = already active);
                Woodpecker creates the Gitea webhook itself
    secrets     PIPELINE_SECRETS on the repo (behind a proxy also its URLs, for the CI build), `events`
                never empty; values are write-only in Woodpecker, so a digest kept in state tells
                when one must be updated
    cron        `retrain`, nightly, enabled (an omitted `enabled` is false and never runs)
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitopslab.clients.woodpecker import WoodpeckerClient
from gitopslab.clients.woodpecker_login import headless_token
from gitopslab.errors import HTTPServiceError
from gitopslab.render.pipelines import proxy_secrets
from gitopslab.stack import s3_users
from gitopslab.stack.gitea import rbac
from gitopslab.stack.lab_http import LabHTTP, lab_http

log = logging.getLogger("gitopslab.stack.woodpecker")

REPO = f"{rbac.ORG}/hello-api"
# Only the events the shipped pipelines run on (deliver: push/manual on main; retrain: cron). Not
# pull_request (forks) nor tag. Woodpecker has no branch filter for secrets, and its image filter
# applies to plugin steps only (a `commands:` step is refused), so a branch pipeline written by a
# member can still read them: the values are therefore least-privilege (the CI bot's token moves only
# the dev pins), see docs/SECURITY.md.
SECRET_EVENTS = ["push", "manual", "cron"]
CRON = {"name": "retrain", "schedule": "0 3 * * *", "branch": "main", "enabled": True}
_DIGESTS = "woodpecker_secret_digests"


def _state(key: str) -> Callable[[Any], str]:
    return lambda ctx: ctx.state.secret(key)


# Secret name (as the pipeline reads it with `from_secret`) -> how its value is found, and a note.
PIPELINE_SECRETS: dict[str, tuple[Callable[[Any], str], str]] = {
    "minio_access_key": (lambda ctx: s3_users.USERS["ci"].access_key, "S3 user of CI: writes model artifacts only"),
    "minio_secret_key": (_state(s3_users.USERS["ci"].secret), "S3 secret key of CI's user"),
    "gitea_username": (lambda ctx: rbac.CI_BOT, "Gitea user of the update-gitops commit (the CI bot)"),
    "gitea_token": (_state("gitea_pipeline_token"), "the CI bot's Gitea token: pushes the dev pins only"),
    "mlflow_tracking_uri": (lambda ctx: ctx.topo.service("mlflow").url, "MLflow tracking server"),
}


@dataclass
class WoodpeckerWireResult:
    url: str
    repo: str
    repo_id: int = 0
    secrets: list[str] = field(default_factory=list)
    cron_id: int = 0
    changes: list[str] = field(default_factory=list)


class _WouldChange(Exception):
    pass


def wire_woodpecker(
    ctx: Any,
    *,
    forge_remote_id: int | None = None,
    dry_run: bool = False,
    http: LabHTTP | None = None,
) -> WoodpeckerWireResult:
    """Sign in, activate hello-api, set its secrets and cron. `ctx` is gitopslab.context.Context;
    `forge_remote_id` is Gitea's id of platform/hello-api (GiteaSeedResult.repos), looked up if None.
    With dry_run, change nothing and stop at the first needed change."""
    conn = http or lab_http(ctx)
    result = WoodpeckerWireResult(url=conn.woodpecker_url, repo=REPO)

    def change(what: str) -> None:
        result.changes.append(what)
        if dry_run:
            raise _WouldChange(what)
        log.info("woodpecker: %s", what)

    try:
        token = _ensure_token(ctx, conn, change)
        with conn.woodpecker(token) as wp:
            repo = _ensure_active(ctx, conn, wp, change, forge_remote_id)
            result.repo_id = int(repo["id"])
            result.secrets = _ensure_secrets(ctx, wp, result.repo_id, change)
            result.cron_id = _ensure_cron(wp, result.repo_id, change)
    except _WouldChange:
        pass
    return result


def woodpecker_wired(ctx: Any, **kwargs: Any) -> bool:
    """True when nothing needs changing (read-only check; for the orchestrator's `done`)."""
    return not wire_woodpecker(ctx, dry_run=True, **kwargs).changes


def _ensure_token(ctx: Any, conn: LabHTTP, change: Callable[[str], None]) -> str:
    token = ctx.state.secrets().get("woodpecker_token", "")
    if token:
        with conn.woodpecker(token) as wp:
            if wp.current_user() is not None:
                return str(token)
    change(f"sign in to Woodpecker as {ctx.cfg.admin_user} through Gitea and mint a token")
    token = headless_token(conn.gitea_url, conn.woodpecker_url, ctx.cfg.admin_user,
                           ctx.state.secret("gitea_admin_password"), **conn.client_options())
    ctx.state.put_secret("woodpecker_token", token)
    return token


def _ensure_active(ctx: Any, conn: LabHTTP, wp: WoodpeckerClient, change: Callable[[str], None],
                   forge_remote_id: int | None) -> dict[str, Any]:
    repo = wp.lookup_repo(REPO)
    if repo is not None and repo.get("active"):
        return repo
    change(f"activate {REPO}")
    remote_id = forge_remote_id if forge_remote_id is not None else _gitea_repo_id(ctx, conn)
    activated = wp.activate_repo(remote_id)
    if activated is None:  # 409: someone activated it in between
        activated = wp.lookup_repo(REPO)
    if activated is None:
        raise HTTPServiceError(f"Woodpecker activated {REPO} but cannot find it afterwards",
                               hint="see `gitopslab logs woodpecker`; then run `gitopslab up` again")
    return activated


def _gitea_repo_id(ctx: Any, conn: LabHTTP) -> int:
    owner, _, name = REPO.partition("/")
    with conn.gitea(token=ctx.state.secret("gitea_token")) as gitea:
        repo = gitea.get_repo(owner, name)
    if repo is None:
        raise HTTPServiceError(f"Gitea has no repository {REPO} to activate in Woodpecker",
                               hint="seed Gitea first (`gitopslab up` does it before Woodpecker)")
    return int(repo["id"])


def _digest(name: str, value: str, events: list[str]) -> str:
    return hashlib.sha256(f"{name}\0{value}\0{','.join(sorted(events))}".encode()).hexdigest()


def _secret_values(ctx: Any) -> dict[str, tuple[str, str]]:
    """Name -> (value, note): PIPELINE_SECRETS, and behind a proxy the CI build's proxy URLs (they may
    hold a login, so the pipeline's build-proxy step reads them with `from_secret`: render/pipelines.py)."""
    values = {name: (value_of(ctx), note) for name, (value_of, note) in PIPELINE_SECRETS.items()}
    for name, url in proxy_secrets(ctx.cfg, ctx.topo).items():
        values[name] = (url, "the lab's proxy, for the CI image build's downloads")
    return values


def _ensure_secrets(ctx: Any, wp: WoodpeckerClient, repo_id: int, change: Callable[[str], None]) -> list[str]:
    existing = {s["name"]: s for s in wp.list_secrets(repo_id)}
    digests: dict[str, str] = json.loads(ctx.state.secrets().get(_DIGESTS, "{}"))
    wanted = _secret_values(ctx)
    for name, (value, note) in wanted.items():
        digest = _digest(name, value, SECRET_EVENTS)
        body = {"name": name, "value": value, "events": list(SECRET_EVENTS), "images": [], "note": note}
        have = existing.get(name)
        if have is None:
            change(f"add secret {name}")
            wp.create_secret(repo_id, body)
        elif digests.get(name) != digest or sorted(have.get("events") or []) != sorted(SECRET_EVENTS):
            change(f"update secret {name}")
            wp.update_secret(repo_id, name, body)
        else:
            continue
        digests[name] = digest
        ctx.state.put_secret(_DIGESTS, json.dumps(digests, sort_keys=True))
    return list(wanted)


def _ensure_cron(wp: WoodpeckerClient, repo_id: int, change: Callable[[str], None]) -> int:
    cron = next((c for c in wp.list_crons(repo_id) if c.get("name") == CRON["name"]), None)
    if cron is None:
        change(f"add cron {CRON['name']} ({CRON['schedule']})")
        return int(wp.create_cron(repo_id, CRON)["id"])
    if any(cron.get(k) != v for k, v in CRON.items()):
        change(f"update cron {CRON['name']}")
        return int(wp.update_cron(repo_id, int(cron["id"]), CRON)["id"])
    return int(cron["id"])


def pipeline_secret_names() -> Mapping[str, str]:
    """Name -> note, for docs and for the pipeline side (`from_secret`)."""
    return {name: note for name, (_, note) in PIPELINE_SECRETS.items()}
