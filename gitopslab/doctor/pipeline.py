"""Pipeline check: the last hello-api pipeline in Woodpecker, and its failing step with the error.

Woodpecker API (contracts/woodpecker-swagger.json, v3.17.0): GET /api/repos/lookup/{owner}/{name}
-> repo id; GET /api/repos/{id}/pipelines/latest -> status, workflows[].children[] (steps).
The token is the one `up` stored in the lab's state as `woodpecker_token`."""

from __future__ import annotations

from typing import Any

from gitopslab.doctor.probe import Probe, describe_http_error
from gitopslab.doctor.result import CheckResult, fail, ok, skip, warn
from gitopslab.doctor.runner import Check

G = "Pipeline"
REPO = "platform/hello-api"
RUNNING = {"pending", "running", "created", "blocked"}


def failing_step(pipeline: dict[str, Any]) -> str | None:
    for wf in pipeline.get("workflows") or []:
        for step in wf.get("children") or []:
            if step.get("state") in ("failure", "error", "killed"):
                code = f", exit {step['exit_code']}" if step.get("exit_code") else ""
                err = f": {step['error']}" if step.get("error") else ""
                return f"workflow {wf.get('name')}, step {step.get('name')} {step.get('state')}{code}{err}"
        if wf.get("state") in ("failure", "error") and wf.get("error"):
            return f"workflow {wf.get('name')}: {wf['error']}"
    errors = pipeline.get("errors") or []
    return str(errors[0].get("message")) if errors else None


def hello_api(p: Probe) -> CheckResult:
    name = "hello-api"
    token = p.state.stored_secret("woodpecker_token")
    if not token:
        return skip(G, name, "no Woodpecker token in the lab's state (woodpecker_token): `gitopslab up` stores it")
    svc = p.topo.service("woodpecker")
    auth = {"Authorization": f"Bearer {token}"}
    try:
        repo = p.http(svc, f"/api/repos/lookup/{REPO}", headers=auth)
        if repo.status_code != 200:
            return fail(G, name, f"Woodpecker does not know {REPO} (HTTP {repo.status_code})",
                        "gitopslab up (activates the repository in Woodpecker)")
        latest = p.http(svc, f"/api/repos/{repo.json()['id']}/pipelines/latest", headers=auth)
    except (KeyError, ValueError):
        return fail(G, name, "Woodpecker answered the repo lookup without an id", "gitopslab logs woodpecker")
    except Exception as exc:
        detail, fix = describe_http_error(exc, svc, p.timeout)
        return fail(G, name, detail, fix)
    if latest.status_code == 404:
        return warn(G, name, f"{REPO} has no pipeline yet", "push a commit to hello-api, or run its cron")
    if latest.status_code != 200:
        return fail(G, name, f"pipelines/latest answered HTTP {latest.status_code}", "gitopslab logs woodpecker")
    pl = latest.json()
    where = f"pipeline #{pl.get('number')} ({pl.get('event')}, {str(pl.get('commit', ''))[:8]})"
    link = f"{svc.url}/repos/{repo.json()['id']}/pipeline/{pl.get('number')}"
    status = pl.get("status")
    if status == "success":
        return ok(G, name, f"{where} succeeded")
    if status in RUNNING:
        return warn(G, name, f"{where} is {status}", f"watch it: {link}")
    return fail(G, name, f"{where} {status}: {failing_step(pl) or 'no failing step reported'}",
                f"open {link}")


def checks() -> list[Check]:
    return [Check(G, "hello-api", hello_api, needs=("Compose/woodpecker",))]
