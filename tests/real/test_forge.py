"""The project's own compose file and Gitea seeding against the real Gitea and registry (built from
their Go modules), and git inside a container reaching Gitea by its one lab URL.

The real Woodpecker (built from its source archive) is wired in tests/real/test_woodpecker.py.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import httpx
import pytest

from gitopslab.render.compose_env import values as compose_values
from gitopslab.render.git_env import git_resolve_env
from gitopslab.stack import compose_layer
from gitopslab.stack.gitea import rbac as gitea_rbac
from gitopslab.stack.gitea.seed import seed_gitea, whales_exec
from tests.real.conftest import ForgeLab
from tests.support.compose_lab import docker

pytestmark = pytest.mark.engine
FORGE_BASE = "gitopslab-forge-base:bookworm"  # Debian git 2.39 on libcurl 7.88


def _seed(lab: ForgeLab):  # type: ignore[no-untyped-def]
    from python_on_whales import DockerClient

    return seed_gitea(lab.ctx, whales_exec(DockerClient(), f"{lab.name}-gitea"))


def _api(lab: ForgeLab) -> httpx.Client:
    """The real Gitea API as the admin, through the published port with the lab's Host header."""
    gitea = lab.ctx.topo.service("gitea")
    auth = (lab.ctx.cfg.admin_user, lab.ctx.state.secret("gitea_admin_password"))
    return httpx.Client(base_url=f"http://127.0.0.1:{gitea.port}/api/v1", headers={"Host": gitea.address},
                        auth=auth, timeout=20)


def _inventory(lab: ForgeLab) -> dict[str, object]:
    """What the real Gitea reports: the objects seeding creates, counted."""
    admin = lab.ctx.cfg.admin_user
    with _api(lab) as api:
        teams = {t["name"]: t for t in api.get(f"/orgs/{gitea_rbac.ORG}/teams").json()}
        repos = sorted(r["name"] for r in api.get(f"/orgs/{gitea_rbac.ORG}/repos").json())
        protections = {repo: sorted(p["rule_name"] for p in
                                    api.get(f"/repos/{gitea_rbac.ORG}/{repo}/branch_protections").json())
                       for repo in repos}
        return {
            "teams": sorted(teams),
            "repos": repos,
            "protections": protections,
            "tokens": sorted(t["name"] for t in api.get(f"/users/{admin}/tokens").json()),
            "oauth_apps": sorted(a["name"] for a in api.get("/user/applications/oauth2").json()),
        }


def test_seeding_creates_the_org_teams_repos_and_rules_the_real_api_reports(forge_lab: ForgeLab) -> None:
    result = _seed(forge_lab)
    assert result.changes, "a fresh Gitea needs seeding"
    seen = _inventory(forge_lab)
    assert set(seen["teams"]) >= {t.name for t in gitea_rbac.TEAMS}  # type: ignore[arg-type]
    assert seen["repos"] == sorted(r.name for r in gitea_rbac.REPOS)
    for repo_name, rule in gitea_rbac.RULES:
        assert rule["rule_name"] in seen["protections"][repo_name]  # type: ignore[index]
    assert len(seen["oauth_apps"]) == 1  # type: ignore[arg-type]
    # The seeded content is there: the GitOps tree's bootstrap app, read back through the real API.
    with _api(forge_lab) as api:
        answer = api.get(f"/repos/{gitea_rbac.ORG}/gitops/contents/bootstrap/root-app.yaml")
        assert answer.status_code == 200
        admin = api.get("/user").json()
        teams = {t["name"]: t for t in api.get(f"/orgs/{gitea_rbac.ORG}/teams").json()}
        devops_members = [u["login"] for u in api.get(f"/teams/{teams['devops']['id']}/members").json()]
        main = api.get(f"/repos/{gitea_rbac.ORG}/gitops/branch_protections/main").json()
        tokens = {t["name"]: t["scopes"] for t in api.get(f"/users/{forge_lab.ctx.cfg.admin_user}/tokens").json()}
        (app,) = api.get("/user/applications/oauth2").json()
    # What the real server made of the requests (what a fake could only echo back):
    assert admin["is_admin"] is True
    # A units team's access mode reads "none" (Gitea parses only none/admin there); its units carry the rights.
    assert teams["security"]["permission"] == "none" and set(teams["security"]["units_map"].values()) == {"read"}
    assert teams["devops"]["permission"] == "admin" and teams["ml"]["units_map"]["repo.code"] == "write"
    assert forge_lab.ctx.cfg.admin_user in devops_members
    assert main["push_whitelist_teams"] == ["devops"] and main["required_approvals"] == 2
    assert "_main_apps/**" in main["protected_file_patterns"].split(";")
    assert tokens["gitopslab"] == ["write:organization", "write:repository", "write:user"]
    woodpecker = forge_lab.ctx.topo.service("woodpecker")
    assert app["confidential_client"] is True and app["redirect_uris"] == [f"{woodpecker.url}/authorize"]
    assert forge_lab.ctx.state.secret("woodpecker_gitea_client") == app["client_id"]


def test_a_second_run_changes_nothing(forge_lab: ForgeLab) -> None:
    before = _inventory(forge_lab)
    result = _seed(forge_lab)
    assert result.changes == []
    assert _inventory(forge_lab) == before


def _bot_push(lab: ForgeLab, tmp_path: Path, repo: str, path: str) -> subprocess.CompletedProcess[str]:
    """As the CI bot with its pipeline token: clone `repo`, change `path`, push to main."""
    gitea = lab.ctx.topo.service("gitea")
    token = lab.ctx.state.secret("gitea_pipeline_token")
    auth = base64.b64encode(f"{gitea_rbac.CI_BOT}:{token}".encode()).decode()
    git = ["git", "-c", f"http.extraHeader=Authorization: Basic {auth}", "-c", "user.name=ci",
           "-c", "user.email=ci@gitopslab.localhost"]
    work = tmp_path / f"{repo}-{path.replace('/', '_')}"
    subprocess.run([*git, "clone", "-q", f"{gitea.url}/{gitea_rbac.ORG}/{repo}.git", str(work)], check=True,
                   capture_output=True, text=True, timeout=60)
    with (work / path).open("a", encoding="utf-8") as fh:
        fh.write("# touched by the CI bot\n")
    subprocess.run([*git, "-C", str(work), "commit", "-qam", "ci bot change"], check=True, capture_output=True)
    return subprocess.run([*git, "-C", str(work), "push", "origin", "HEAD:main"], capture_output=True, text=True,
                          timeout=60)


def test_the_ci_bot_pushes_the_dev_pins_to_main_and_nothing_else(forge_lab: ForgeLab, tmp_path: Path) -> None:
    """Real Gitea enforces it: the bot's token (what every pipeline can read) moves the dev pins; a prd
    pin, the tenancy layer and the app's own repository stay behind devops and the approvals."""
    dev = _bot_push(forge_lab, tmp_path, "gitops", "clusters/app-dev/kustomization.yaml")
    assert dev.returncode == 0, dev.stderr
    for repo, path in (("gitops", "clusters/app-prd/kustomization.yaml"), ("gitops", "projects/app-prd.yaml"),
                       ("hello-api", "README.md")):
        refused = _bot_push(forge_lab, tmp_path, repo, path)
        assert refused.returncode != 0, f"the CI bot pushed {repo}:{path}"


def test_a_member_cannot_push_a_branch_of_hello_api_so_no_member_pipeline_reads_ci_secrets(
        forge_lab: ForgeLab, tmp_path: Path) -> None:
    """Issue 12.5 on the real Gitea: an `app` member's push of a new hello-api branch (where their own
    pipeline would run with the CI secrets on a push event) is refused; they push to their fork and
    open a pull request instead, whose pipeline gets no secret. A devops member may push a branch."""
    _seed(forge_lab)  # idempotent: the rules as `up` leaves them, whichever test ran first
    member = _member(forge_lab, "app", "app-member")
    refused = _push_branch(forge_lab, tmp_path, member, "steal-secrets")
    assert refused.returncode != 0 and "protected" in (refused.stderr + refused.stdout).lower(), refused.stderr
    with _api(forge_lab) as api:
        fork = api.post(f"/repos/{gitea_rbac.ORG}/hello-api/forks", auth=member, json={})
    assert fork.status_code in (202, 409), fork.text  # the way in for a member: a fork and a pull request
    lead = _member(forge_lab, "devops", "devops-member")
    assert _push_branch(forge_lab, tmp_path, lead, "reviewed-work").returncode == 0


def _member(lab: ForgeLab, team: str, login: str) -> tuple[str, str]:
    """A user in one of the seeded teams, made through the admin API; returns its login."""
    password = "Member-" + base64.b32encode(login.encode()).decode()[:12]
    with _api(lab) as api:
        made = api.post("/admin/users", json={"username": login, "email": f"{login}@gitopslab.localhost",
                                              "password": password, "must_change_password": False})
        assert made.status_code in (201, 422), made.text  # 422: made by an earlier run
        teams = api.get(f"/orgs/{gitea_rbac.ORG}/teams/search", params={"q": team}).json()["data"]
        team_id = next(t["id"] for t in teams if t["name"] == team)
        assert api.put(f"/teams/{team_id}/members/{login}").status_code == 204
    return login, password


def _push_branch(lab: ForgeLab, tmp_path: Path, user: tuple[str, str], branch: str) -> subprocess.CompletedProcess[str]:
    gitea = lab.ctx.topo.service("gitea")
    auth = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    git = ["git", "-c", f"http.extraHeader=Authorization: Basic {auth}", "-c", f"user.name={user[0]}",
           "-c", f"user.email={user[0]}@gitopslab.localhost"]
    work = tmp_path / f"hello-api-{branch}"
    subprocess.run([*git, "clone", "-q", f"{gitea.url}/{gitea_rbac.ORG}/hello-api.git", str(work)], check=True,
                   capture_output=True, text=True, timeout=60)
    (work / ".woodpecker" / "steal.yaml").write_text("steps:\n  - name: x\n    image: alpine\n")
    subprocess.run([*git, "-C", str(work), "add", "-A"], check=True, capture_output=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "a branch pipeline"], check=True, capture_output=True)
    return subprocess.run([*git, "-C", str(work), "push", "origin", f"HEAD:{branch}"], capture_output=True,
                          text=True, timeout=60)


def test_the_admin_password_was_set_without_an_argv_and_argocd_reads_only(forge_lab: ForgeLab) -> None:
    """The admin created with --random-password answers to the stored password (set through the
    API); Argo CD's token reads the GitOps repo and cannot write it."""
    gitea = forge_lab.ctx.topo.service("gitea")
    with _api(forge_lab) as api:
        assert api.get("/user").json()["login"] == forge_lab.ctx.cfg.admin_user
    token = forge_lab.ctx.state.secret("gitea_argocd_token")
    with httpx.Client(base_url=f"http://127.0.0.1:{gitea.port}/api/v1", headers={"Host": gitea.address},
                      auth=(gitea_rbac.ARGOCD_BOT, token), timeout=20) as argocd:
        assert argocd.get(f"/repos/{gitea_rbac.ORG}/gitops").status_code == 200
        wrote = argocd.post(f"/repos/{gitea_rbac.ORG}/gitops/contents/x.txt", json={"content": "eA=="})
        assert wrote.status_code in (401, 403), wrote.text


def test_every_published_port_binds_loopback(forge_lab: ForgeLab) -> None:
    for service in ("gitea", "registry"):
        info = json.loads(docker("inspect", f"{forge_lab.name}-{service}").stdout)[0]
        bindings = [b for ports in info["NetworkSettings"]["Ports"].values() if ports for b in ports]
        assert bindings and all(b["HostIp"] == "127.0.0.1" for b in bindings), (service, bindings)


def _git_in_lab(lab: ForgeLab, env: dict[str, str], *cmd: str) -> subprocess.CompletedProcess[str]:
    flags = [f for key, value in env.items() for f in ("-e", f"{key}={value}")]
    return subprocess.run(["docker", "run", "--rm", "--network", lab.ctx.topo.network, *flags, FORGE_BASE, *cmd],
                          capture_output=True, text=True, timeout=120)


def test_libcurl_sends_localhost_names_to_loopback_whatever_the_resolver_says(forge_lab: ForgeLab) -> None:
    """Upstream behaviour the lab must live with (curl >= 7.85): the network alias resolves, git fails."""
    gitea = forge_lab.ctx.topo.service("gitea")
    resolved = _git_in_lab(forge_lab, {}, "getent", "hosts", gitea.hostname)
    assert resolved.stdout.split()[0] == gitea.ip
    plain = _git_in_lab(forge_lab, {"GIT_CURL_VERBOSE": "1"}, "git", "ls-remote",
                        f"{gitea.url}/{gitea_rbac.ORG}/gitops.git")
    assert plain.returncode != 0
    assert f"Trying 127.0.0.1:{gitea.port}" in plain.stderr, plain.stderr[-2000:]
    assert gitea.ip not in plain.stderr


def test_git_in_a_ci_step_reaches_gitea_by_its_lab_url(forge_lab: ForgeLab) -> None:
    """The variables the Woodpecker server hands every step (WOODPECKER_ENVIRONMENT) make the same
    clone URL work: parsed here exactly as Woodpecker does (items split at the first colon)."""
    topo = forge_lab.ctx.topo
    rendered = compose_values(forge_lab.ctx.cfg, topo)["WOODPECKER_ENVIRONMENT"]
    env = dict(item.split(":", 1) for item in rendered.split(","))
    gitea = topo.service("gitea")
    done = _git_in_lab(forge_lab, env, "git", "ls-remote", f"{gitea.url}/{gitea_rbac.ORG}/gitops.git")
    assert done.returncode == 0, done.stderr
    assert "refs/heads/main" in done.stdout
    assert env == git_resolve_env(topo)


def test_the_registry_takes_a_push_and_serves_the_manifest(forge_lab: ForgeLab, base_image: str) -> None:
    registry = forge_lab.ctx.topo.service("registry")
    name = f"127.0.0.1:{registry.port}/gitopslab-real-check:1"
    docker("tag", base_image, name)
    try:
        docker("push", name, timeout=300)
    finally:
        docker("rmi", name, check=False)
    answer = httpx.get(f"http://127.0.0.1:{registry.port}/v2/gitopslab-real-check/manifests/1",
                       headers={"Host": registry.address,
                                "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    assert answer.status_code == 200 and answer.headers["Docker-Content-Digest"].startswith("sha256:")


def test_destroy_then_up_again_seeds_with_the_stale_tokens_in_state(forge_lab: ForgeLab) -> None:
    """After `destroy --yes` the state dir still holds tokens Gitea no longer knows: up must mint new ones."""
    stale = {k: forge_lab.ctx.state.secret(k) for k in ("gitea_token", "gitea_pipeline_token")}
    compose_layer.destroy(forge_lab.ctx)
    forge_lab.compose_up()
    result = _seed(forge_lab)
    assert result.changes
    fresh = {k: forge_lab.ctx.state.secret(k) for k in stale}
    assert all(fresh[k] != stale[k] for k in stale)
    assert _seed(forge_lab).changes == []


def test_offline_the_bundles_wheels_are_served_by_the_labs_gitea_to_pip_on_the_lab_network(
        forge_lab: ForgeLab, tmp_path: Path) -> None:
    """Issue 16: `up --offline` uploads the wheelhouse to the seeded org's PyPI registry in the real
    Gitea; pip in a container on the lab network installs from the index every pip of an offline lab
    reads (render/pipelines.pip_index), by the lab's name; a second upload changes nothing."""
    from gitopslab.model.mirrors import pip_env
    from gitopslab.offline.archive import bundle_dir
    from gitopslab.offline.wheelhouse import WHEELHOUSE
    from gitopslab.render.pipelines import pip_index
    from gitopslab.stack.gitea import wheels
    from tests.fakes.wheels import make_wheel, make_wheelhouse

    _seed(forge_lab)
    wheel = make_wheel(tmp_path, "gitopslab_demo", "1.0.0")
    folder = bundle_dir(forge_lab.ctx)
    folder.mkdir(parents=True, exist_ok=True)
    make_wheelhouse(folder / WHEELHOUSE, {wheel.name: wheel.read_bytes()})
    assert wheels.upload(forge_lab.ctx) == 1
    assert wheels.upload(forge_lab.ctx) == 0  # the registry holds it: nothing new
    offline = forge_lab.ctx.cfg.model_copy(update={"offline": True})
    env = pip_env(pip_index(offline, forge_lab.ctx.topo))
    flags = [f for key, value in env.items() for f in ("-e", f"{key}={value}")]
    installed = subprocess.run(["docker", "run", "--rm", "--network", forge_lab.ctx.topo.network, *flags,
                                "docker.io/library/python:3.12-slim-bookworm", "python3", "-m", "pip", "download",
                                "--no-deps", "-d", "/tmp/w", "gitopslab-demo==1.0.0"],
                               capture_output=True, text=True, timeout=180)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "gitopslab_demo-1.0.0-py3-none-any.whl" in installed.stdout + installed.stderr
    # hello-api's image build as `up --offline` routes it (delivery.pip_route): on the lab network, pip
    # reading the lab's Gitea; a stand-in Dockerfile fetches the package the way the real one installs.
    from gitopslab.stack import delivery

    context = tmp_path / "build"
    context.mkdir()
    (context / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG PIP_INDEX_URL\nARG PIP_TRUSTED_HOST\n"
                                        "RUN python3 -m pip download --no-deps -d /w gitopslab-demo==1.0.0\n")
    index_url, network = delivery.pip_route(offline, forge_lab.ctx.topo)
    assert network == forge_lab.ctx.topo.network
    ref = f"gitopslab-offline-build-{forge_lab.name}:test"
    try:
        delivery.build_image(ref, base_image="docker.io/library/python:3.12-slim-bookworm", context=context,
                             cfg=offline, index_url=index_url, network=network)
    finally:
        subprocess.run(["docker", "rmi", "-f", ref], capture_output=True, timeout=60)
