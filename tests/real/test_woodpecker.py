"""The real Woodpecker (server and agent built from the v3.17.0 source archive by scripts/real-stack/build.py,
tagged with the names versions.py pins) brought up by the project's own compose layer beside the real
Gitea, and `woodpecker.wire` run against it as `up` runs it: the headless sign-in through Gitea, the
token, hello-api's activation (Woodpecker makes the Gitea hook), the secrets and the cron; a second run
changes nothing; `destroy --yes` and up again wires afresh.

The request-validating fake (tests/fakes/woodpecker.py) stays only for faults this server will not
produce on demand: a 409 race on activation, registration closed, a wrong OAuth secret, and paging past
50 items (tests/stack/test_woodpecker_wire.py, tests/clients/test_woodpecker_paging.py).
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gitopslab.conductor import runner as orchestrator
from gitopslab.stack import compose_layer
from gitopslab.stack.gitea import rbac
from gitopslab.stack.gitea.seed import seed_gitea, whales_exec
from gitopslab.stack.woodpecker_wire import (
    CRON,
    PIPELINE_SECRETS,
    SECRET_EVENTS,
    wire_woodpecker,
    woodpecker_wired,
)
from tests.real.conftest import ForgeLab, make_forge_lab
from tests.support.compose_lab import docker, remove_lab

pytestmark = pytest.mark.engine


def _up(lab: ForgeLab) -> None:
    """`up`'s compose and wiring steps, in its order: core, seed, Woodpecker's containers."""
    from python_on_whales import DockerClient

    lab.compose_up()
    seed_gitea(lab.ctx, whales_exec(DockerClient(), f"{lab.name}-gitea"))
    orchestrator.run(lab.ctx, [compose_layer.woodpecker_step()])


@pytest.fixture(scope="module")
def ci_lab(real_forge: list[str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForgeLab]:
    lab = make_forge_lab(tmp_path_factory.mktemp("woodpecker"))
    try:
        _up(lab)
        yield lab
    finally:
        remove_lab(lab.ctx)


def _woodpecker(lab: ForgeLab) -> httpx.Client:
    """The real Woodpecker API with the token wiring stored, through the published port, Host header kept."""
    wp = lab.ctx.topo.service("woodpecker")
    return httpx.Client(base_url=f"http://127.0.0.1:{wp.port}/api", headers={
        "Host": wp.address, "Authorization": f"Bearer {lab.ctx.state.secret('woodpecker_token')}"}, timeout=20)


def _gitea_hooks(lab: ForgeLab) -> list[dict[str, object]]:
    gitea = lab.ctx.topo.service("gitea")
    auth = (lab.ctx.cfg.admin_user, lab.ctx.state.secret("gitea_admin_password"))
    with httpx.Client(base_url=f"http://127.0.0.1:{gitea.port}/api/v1", headers={"Host": gitea.address},
                      auth=auth, timeout=20) as api:
        answer = api.get(f"/repos/{rbac.ORG}/hello-api/hooks")
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def _wired_state(lab: ForgeLab) -> dict[str, object]:
    """What the real server reports for hello-api: activation, secrets (no values: write-only), cron."""
    with _woodpecker(lab) as api:
        repo = api.get("/repos/lookup/platform/hello-api")
        assert repo.status_code == 200, repo.text
        repo_id = repo.json()["id"]
        secrets = {s["name"]: sorted(s["events"]) for s in api.get(f"/repos/{repo_id}/secrets").json()}
        crons = [{k: c[k] for k in ("name", "schedule", "branch", "enabled")}
                 for c in api.get(f"/repos/{repo_id}/cron").json()]
        user = api.get("/user").json()
    return {"active": repo.json()["active"], "repo_id": repo_id, "secrets": secrets, "crons": crons,
            "user": user["login"], "hooks": len(_gitea_hooks(lab))}


def test_the_images_are_laid_out_as_upstreams(ci_lab: ForgeLab) -> None:
    server = json.loads(docker("inspect", f"{ci_lab.name}-woodpecker-server").stdout)[0]
    agent = json.loads(docker("inspect", f"{ci_lab.name}-woodpecker-agent").stdout)[0]
    assert server["Config"]["User"] == "woodpecker" and "GODEBUG=netdns=go" in server["Config"]["Env"]
    assert server["State"]["Health"]["Status"] == "healthy" and agent["State"]["Health"]["Status"] == "healthy"
    wp = ci_lab.ctx.topo.service("woodpecker")
    version = httpx.get(f"http://127.0.0.1:{wp.port}/version", headers={"Host": wp.address}, timeout=10).json()
    assert version["version"] == "3.17.0", version


def test_wire_signs_in_through_gitea_activates_and_sets_secrets_and_cron(ci_lab: ForgeLab) -> None:
    result = wire_woodpecker(ci_lab.ctx)
    assert result.changes, "a fresh Woodpecker needs wiring"
    seen = _wired_state(ci_lab)
    assert seen["user"] == ci_lab.ctx.cfg.admin_user  # the token is the Gitea admin's, minted headlessly
    assert seen["active"] is True and seen["repo_id"] == result.repo_id
    assert seen["hooks"] == 1  # Woodpecker (not gitopslab) made hello-api's Gitea webhook
    assert seen["secrets"] == {name: sorted(SECRET_EVENTS) for name in PIPELINE_SECRETS}
    assert seen["crons"] == [CRON]


def test_a_second_run_changes_nothing(ci_lab: ForgeLab) -> None:
    wire_woodpecker(ci_lab.ctx)  # idempotent: wired whichever test ran first
    before = _wired_state(ci_lab)
    assert woodpecker_wired(ci_lab.ctx)
    assert wire_woodpecker(ci_lab.ctx).changes == []
    assert _wired_state(ci_lab) == before


def test_a_token_the_server_does_not_know_signs_in_again_without_consent(ci_lab: ForgeLab) -> None:
    """A stale token (a lab restored from an old state dir): the second sign-in skips Gitea's consent page
    (the grant exists) and the fresh token works."""
    wire_woodpecker(ci_lab.ctx)
    ci_lab.ctx.state.put_secret("woodpecker_token", "not-a-token-woodpecker-knows")
    result = wire_woodpecker(ci_lab.ctx)
    assert result.changes == [f"sign in to Woodpecker as {ci_lab.ctx.cfg.admin_user} through Gitea and mint a token"]
    assert _wired_state(ci_lab)["user"] == ci_lab.ctx.cfg.admin_user


def test_a_disabled_cron_and_a_rotated_secret_are_put_back(ci_lab: ForgeLab) -> None:
    wire_woodpecker(ci_lab.ctx)
    repo_id = _wired_state(ci_lab)["repo_id"]
    with _woodpecker(ci_lab) as api:
        (cron,) = api.get(f"/repos/{repo_id}/cron").json()
        assert api.patch(f"/repos/{repo_id}/cron/{cron['id']}", json={"enabled": False}).status_code == 200
    ci_lab.ctx.state.put_secret("gitea_pipeline_token", "rotated-" + ci_lab.ctx.state.secret("gitea_pipeline_token"))
    try:
        result = wire_woodpecker(ci_lab.ctx)
        assert sorted(result.changes) == ["update cron retrain", "update secret gitea_token"]
        assert _wired_state(ci_lab)["crons"] == [CRON]
    finally:
        from python_on_whales import DockerClient

        seed_gitea(ci_lab.ctx, whales_exec(DockerClient(), f"{ci_lab.name}-gitea"))  # a working token again
        wire_woodpecker(ci_lab.ctx)


def test_every_published_port_binds_loopback(ci_lab: ForgeLab) -> None:
    info = json.loads(docker("inspect", f"{ci_lab.name}-woodpecker-server").stdout)[0]
    bindings = [b for ports in info["NetworkSettings"]["Ports"].values() if ports for b in ports]
    assert bindings and all(b["HostIp"] == "127.0.0.1" for b in bindings), bindings


def test_destroy_then_up_again_wires_a_fresh_server(ci_lab: ForgeLab, tmp_path: Path) -> None:
    """After `destroy --yes` the state still holds the old Woodpecker token; up signs in again, activates
    again (a new Gitea hook), and a second wiring changes nothing."""
    wire_woodpecker(ci_lab.ctx)
    stale = ci_lab.ctx.state.secret("woodpecker_token")
    compose_layer.destroy(ci_lab.ctx)
    _up(ci_lab)
    result = wire_woodpecker(ci_lab.ctx)
    assert any(c.startswith("sign in") for c in result.changes) and "activate platform/hello-api" in result.changes
    assert ci_lab.ctx.state.secret("woodpecker_token") != stale
    seen = _wired_state(ci_lab)
    assert seen["active"] is True and seen["hooks"] == 1 and seen["crons"] == [CRON]
    assert wire_woodpecker(ci_lab.ctx).changes == []


def _push_to_hello_api(lab: ForgeLab, tmp_path: Path) -> None:
    """As the admin (devops, the push whitelist of main): one commit to platform/hello-api main."""
    gitea = lab.ctx.topo.service("gitea")
    auth = base64.b64encode(f"{lab.ctx.cfg.admin_user}:{lab.ctx.state.secret('gitea_admin_password')}".encode())
    git = ["git", "-c", f"http.extraHeader=Authorization: Basic {auth.decode()}", "-c", "user.name=lead",
           "-c", "user.email=lead@gitopslab.localhost"]
    work = tmp_path / "hello-api"
    subprocess.run([*git, "clone", "-q", f"http://127.0.0.1:{gitea.port}/{rbac.ORG}/hello-api.git", str(work)],
                   check=True, capture_output=True, timeout=60)
    (work / "README.md").write_text(f"a push that runs the deliver pipeline ({time.time_ns()})\n")
    subprocess.run([*git, "-C", str(work), "commit", "-qam", "run deliver"], check=True, capture_output=True)
    pushed = subprocess.run([*git, "-C", str(work), "push", "origin", "HEAD:main"], capture_output=True, text=True,
                            timeout=60)
    assert pushed.returncode == 0, pushed.stderr


def _steps(pipeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for w in pipeline.get("workflows") or [] for s in w.get("children") or []}


def test_a_push_runs_a_real_pipeline_whose_clone_step_fetches_through_the_lab_url(ci_lab: ForgeLab,
                                                                                  tmp_path: Path) -> None:
    """Gitea's webhook reaches the real server, the real agent runs the clone step (plugin-git built from
    its archive) on the lab network, and it fetches from Gitea's one URL. The pipeline is then cancelled:
    its later steps are issue 28 item 3."""
    repo_id = wire_woodpecker(ci_lab.ctx).repo_id
    _push_to_hello_api(ci_lab, tmp_path)
    seen: dict[str, Any] = {}
    deadline = time.monotonic() + 180
    with _woodpecker(ci_lab) as api:
        while time.monotonic() < deadline:
            pipelines = api.get(f"/repos/{repo_id}/pipelines").json() or []
            if pipelines:
                seen = api.get(f"/repos/{repo_id}/pipelines/{pipelines[0]['number']}").json()
                clone = _steps(seen).get("clone", {})
                if clone.get("state") not in (None, "pending", "running"):
                    break
            time.sleep(2)
        assert _steps(seen).get("clone", {}).get("state") == "success", (
            f"the clone step did not succeed within 180 s; last seen: {seen or 'no pipeline'}; "
            f"see `docker logs {ci_lab.name}-woodpecker-agent`")
        assert _steps(seen)["clone"]["exit_code"] == 0 and seen["event"] == "push" and seen["branch"] == "main"
        repo = api.get(f"/repos/{repo_id}").json()
        gitea = ci_lab.ctx.topo.service("gitea")
        assert repo["clone_url"] == f"{gitea.url}/{rbac.ORG}/hello-api.git"  # what the clone step fetched
        cancelled = api.post(f"/repos/{repo_id}/pipelines/{seen['number']}/cancel")
        assert cancelled.status_code in (200, 204), cancelled.text
    _wait_no_step_containers(ci_lab)


def _wait_no_step_containers(lab: ForgeLab) -> None:
    """The agent removes a cancelled pipeline's step containers (labelled wp_uuid) from the lab network."""
    deadline, left = time.monotonic() + 120, ["?"]
    while time.monotonic() < deadline:
        left = docker("ps", "-aq", "--filter", "label=wp_uuid", "--filter", f"network={lab.ctx.topo.network}").stdout.split()
        if not left:
            return
        time.sleep(2)
    raise AssertionError(f"step containers {left} still on {lab.ctx.topo.network} 120 s after the cancel; "
                         f"see `docker logs {lab.name}-woodpecker-agent`")


def test_destroy_while_a_pipeline_runs_removes_its_steps_and_the_lab_network(ci_lab: ForgeLab, tmp_path: Path) -> None:
    """The agent's step containers carry Woodpecker's labels, not the lab's; `destroy --yes` during a
    pipeline removes them, their workflow volume and network, and then the lab network they held. Runs
    last: the lab is gone afterwards."""
    wire_woodpecker(ci_lab.ctx)
    _push_to_hello_api(ci_lab, tmp_path)
    net = ci_lab.ctx.topo.network
    # The test step (pytest: a minute or more) is still running when destroy comes; clone is over in seconds.
    deadline, steps = time.monotonic() + 180, []
    while time.monotonic() < deadline and not steps:
        steps = docker("ps", "-q", "--filter", "label=wp_step=test", "--filter", f"network={net}").stdout.split()
        time.sleep(1)
    assert steps, f"no test step ran on {net} within 180 s; see `docker logs {ci_lab.name}-woodpecker-agent`"
    (step,) = json.loads(docker("inspect", steps[0]).stdout)
    workflow_volumes = [m["Name"] for m in step["Mounts"] if m.get("Name", "").startswith("wp_")]
    workflow_networks = [n for n in step["NetworkSettings"]["Networks"] if n.startswith("wp_")]
    assert workflow_volumes and workflow_networks, step["Mounts"]
    removed = compose_layer.destroy(ci_lab.ctx)
    assert step["Name"].lstrip("/") in removed.containers
    assert docker("ps", "-aq", "--filter", "label=wp_uuid", "--filter", f"network={net}", check=False).stdout == ""
    for kind, names in (("container", [step["Id"]]), ("volume", workflow_volumes),
                        ("network", [*workflow_networks, net])):
        for name in names:
            assert docker(kind, "inspect", name, check=False).returncode != 0, f"{kind} {name} outlived destroy"
