"""The forge tier on a real Podman (4.3, rootful, its Docker-compatible API service) with `engine: podman`:
the project's own compose file, compose layer, Gitea seeding and Woodpecker wiring, unchanged, bring up
the real Gitea, registry, Woodpecker server and agent (the agent given Podman's socket); a pipeline
step the agent starts on Podman reaches Gitea by the lab's one URL; `destroy` removes the lab's
objects by label and nothing else. The images are the ones scripts/real-stack/build.py builds into
Docker, copied into Podman (tests/real/podman_fixtures.py). Each Podman difference is named in
gitopslab/drivers/podman.py and docs/INSTALLATION.md.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gitopslab.conductor import runner as orchestrator
from gitopslab.drivers import engine as driver
from gitopslab.drivers.podman import loaded_as as podman_loaded_as
from gitopslab.errors import EngineError
from gitopslab.model.components import CORE, WOODPECKER
from gitopslab.offline import archive
from gitopslab.stack import compose_layer
from gitopslab.stack.gitea import rbac
from gitopslab.stack.gitea.seed import seed_gitea, whales_exec
from gitopslab.stack.woodpecker_wire import wire_woodpecker, woodpecker_wired
from tests.real.conftest import ForgeLab
from tests.real.podman_fixtures import (  # noqa: F401  (podman_engine is a fixture)
    copy_images,
    make_podman_lab,
    podman,
    podman_engine,
    podman_objects,
    remove_podman_lab,
)
from tests.support.bundles import bundle, images_tar
from tests.support.bundles import manifest as bundle_manifest

pytestmark = pytest.mark.engine

STEP_IMAGE = "gitopslab-busybox:latest"
GITEA_BEFORE_WOODPECKER: dict[str, str] = {}  # lab -> Gitea's container id before the Woodpecker step


@pytest.fixture(scope="module")
def podman_lab(podman_engine: str, engine: str, busybox_image: str,  # noqa: F811
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForgeLab]:
    """The images come from Docker, where scripts/test.sh's `build.py forge` put them before pytest; no
    second build here (copy_images names build.py when one is missing)."""
    lab = make_podman_lab(tmp_path_factory.mktemp("podman"))
    needed = compose_layer.service_images(lab.ctx, (*CORE, *WOODPECKER))  # the step images the agent needs too
    copy_images([*needed.values(), busybox_image])
    try:
        lab.compose_up()
        seed_gitea(lab.ctx, whales_exec(driver.client(lab.ctx.engine()), f"{lab.name}-gitea"))
        GITEA_BEFORE_WOODPECKER[lab.name] = _inspect(f"{lab.name}-gitea")["Id"]
        orchestrator.run(lab.ctx, [compose_layer.woodpecker_step()])
        wire_woodpecker(lab.ctx)
        yield lab
    finally:
        remove_podman_lab(lab.ctx)


def _inspect(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads(podman("inspect", name).stdout)[0]  # type: ignore[no-any-return]


def test_the_lab_detects_podman_and_hands_the_agent_its_api_socket(podman_lab: ForgeLab) -> None:
    info = podman_lab.ctx.engine()
    assert info.kind == "podman" and info.socket == "/run/podman/podman.sock", info
    agent = _inspect(f"{podman_lab.name}-woodpecker-agent")
    mounts = {m["Destination"]: m["Source"] for m in agent["Mounts"]}
    assert mounts["/var/run/docker.sock"] == info.socket


def test_starting_woodpecker_leaves_gitea_running_as_it_was(podman_lab: ForgeLab) -> None:
    """Podman 4.3 makes Compose recreate the dependencies of what it starts; a Gitea recreated under the
    Woodpecker step left its published port silent and the sign-in after it timed out (CI, stop 21)."""
    assert _inspect(f"{podman_lab.name}-gitea")["Id"] == GITEA_BEFORE_WOODPECKER[podman_lab.name]


def test_every_service_runs_healthy_on_podman_with_ports_on_loopback_only(podman_lab: ForgeLab) -> None:
    """Health checks ran although no systemd timer drives them here (ComposeLab.ps runs them)."""
    statuses = {s.service: s for s in compose_layer.lab(podman_lab.ctx).ps()}
    for service in ("gitea", "registry", "woodpecker-server", "woodpecker-agent"):
        assert statuses[service].state == "running" and statuses[service].health == "healthy", statuses[service]
        info = _inspect(f"{podman_lab.name}-{service}")
        bindings = [b for ports in (info["NetworkSettings"]["Ports"] or {}).values() if ports for b in ports]
        assert all(b["HostIp"] == "127.0.0.1" for b in bindings), (service, bindings)
    for service in ("gitea", "registry", "woodpecker-server"):
        svc = podman_lab.ctx.topo.service(service.split("-")[0])
        ip = _inspect(f"{podman_lab.name}-{service}")["NetworkSettings"]["Networks"][podman_lab.ctx.topo.network]
        assert ip["IPAddress"] == svc.ip, (service, ip)  # the fixed address on the external network
    assert statuses["woodpecker-volume-init"].state == "exited"  # service_completed_successfully held


def test_gitea_is_seeded_and_woodpecker_wired(podman_lab: ForgeLab) -> None:
    gitea = podman_lab.ctx.topo.service("gitea")
    auth = (podman_lab.ctx.cfg.admin_user, podman_lab.ctx.state.secret("gitea_admin_password"))
    with httpx.Client(base_url=f"http://127.0.0.1:{gitea.port}/api/v1", headers={"Host": gitea.address},
                      auth=auth, timeout=20) as api:
        repos = {r["name"] for r in api.get(f"/orgs/{rbac.ORG}/repos").json()}
    assert {"gitops", "hello-api"} <= repos
    assert woodpecker_wired(podman_lab.ctx)
    assert wire_woodpecker(podman_lab.ctx).changes == []


def _push_probe_pipeline(lab: ForgeLab, work: Path) -> None:
    """Replace hello-api's pipelines with one whose step fetches Gitea's health URL by the lab's name."""
    gitea = lab.ctx.topo.service("gitea")
    password = lab.ctx.state.secret("gitea_admin_password")
    url = f"http://{lab.ctx.cfg.admin_user}:{password}@127.0.0.1:{gitea.port}/{rbac.ORG}/hello-api.git"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c",
           f"http.extraHeader=Host: {gitea.address}"]
    subprocess.run([*git, "clone", "-q", url, str(work)], check=True, capture_output=True, timeout=120)
    for old in (work / ".woodpecker").glob("*.yaml"):
        old.unlink()
    (work / ".woodpecker" / "probe.yaml").write_text(
        "when:\n  - event: push\n"
        "steps:\n  - name: reach-gitea\n"
        f"    image: {STEP_IMAGE}\n"
        "    commands:\n"
        f"      - wget -q -O - {gitea.url}/api/healthz\n"
        "      - echo reached-gitea\n")
    subprocess.run([*git, "-C", str(work), "add", "-A"], check=True, capture_output=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "probe pipeline"], check=True, capture_output=True)
    subprocess.run([*git, "-C", str(work), "push", "-q", "origin", "HEAD"], check=True, capture_output=True,
                   timeout=120)


def test_a_step_the_agent_starts_on_podman_reaches_gitea_by_the_lab_url(podman_lab: ForgeLab,
                                                                      tmp_path: Path) -> None:
    """Gitea's push hook reaches Woodpecker by its lab name, the agent starts the clone step and ours on
    Podman through its socket, on the lab network: both fetch from Gitea by http://gitea.localhost:PORT."""
    _push_probe_pipeline(podman_lab, tmp_path / "hello-api")
    wp = podman_lab.ctx.topo.service("woodpecker")
    headers = {"Host": wp.address, "Authorization": f"Bearer {podman_lab.ctx.state.secret('woodpecker_token')}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{wp.port}/api", headers=headers, timeout=20) as api:
        repo_id = api.get("/repos/lookup/platform/hello-api").json()["id"]
        deadline, pipeline = time.monotonic() + 300, {}
        while time.monotonic() < deadline:
            pipelines = api.get(f"/repos/{repo_id}/pipelines").json() or []
            pipeline = api.get(f"/repos/{repo_id}/pipelines/{pipelines[0]['number']}").json() if pipelines else {}
            if pipeline.get("status") in ("success", "failure", "error", "killed", "declined"):
                break
            time.sleep(2)
        steps = {s["name"]: s for w in pipeline.get("workflows") or [] for s in w.get("children") or []}

        def logs() -> dict[str, str]:
            return {name: "".join(
                base64.b64decode(line.get("data") or "").decode(errors="replace")
                for line in api.get(f"/repos/{repo_id}/logs/{pipeline['number']}/{step['id']}").json() or [])
                for name, step in steps.items()} if pipeline else {}

        seen = logs()
        # The server stores a step's last log lines a moment after it reports the step done.
        deadline = time.monotonic() + 30
        while "reached-gitea" not in seen.get("reach-gitea", "") and time.monotonic() < deadline:
            time.sleep(1)
            seen = logs()
    assert pipeline.get("status") == "success", (pipeline.get("status"), pipeline.get("errors"), seen)
    assert steps["clone"]["state"] == "success" and steps["reach-gitea"]["state"] == "success", steps
    assert "reached-gitea" in seen["reach-gitea"], seen


def test_an_image_name_without_a_registry_is_pulled_from_docker_hub_not_refused(podman_engine: str,  # noqa: F811
                                                                              tmp_path: Path) -> None:
    """Podman's CLI refuses a short name where Docker pulls from Docker Hub; the lab names Docker Hub.
    (No network here: the pull reaches for registry-1.docker.io, which is what Docker would do.)"""
    info = driver.detect("podman")
    lab = driver.ComposeLab(info, "glpshort", compose_layer.compose_file(), tmp_path / "lab.env")
    with pytest.raises(EngineError) as caught:
        lab.require_images({"edge": "gitopslab-no-such-image:1"})
    assert "short-name" not in caught.value.message, caught.value.message
    assert "docker.io/library/gitopslab-no-such-image:1" in caught.value.message or \
        "registry-1.docker.io" in caught.value.message, caught.value.message


def test_a_bundle_loads_into_podman_under_the_names_its_manifest_lists(podman_engine: str,  # noqa: F811
                                                                        tmp_path: Path) -> None:
    """`docker save` writes `gitopslab-podman-probe:1`; Podman 4.3 loads that as localhost/...; bundle
    load gives it the manifest's docker.io name, which `up --offline` asks for."""
    ref = f"docker.io/library/gitopslab-podman-probe:{uuid.uuid4().hex[:8]}"
    images = images_tar([ref.removeprefix("docker.io/library/")])
    source = bundle(tmp_path / "b.tar", bundle_manifest(images, [ref]), images)
    client = driver.client(driver.detect("podman"))
    try:
        loaded = archive.load(client, source, tmp_path / "state" / "bundle")
        assert loaded.images == [ref]
        assert podman("image", "exists", ref, check=False).returncode == 0
    finally:
        podman("rmi", "-f", ref, podman_loaded_as(ref), check=False)


def test_destroy_removes_the_labs_objects_on_podman_and_nothing_else(podman_lab: ForgeLab) -> None:
    """Label filters on Podman: destroy finds and removes the lab's containers, volumes and network;
    a container of someone else on Podman stays."""
    bystander = f"{podman_lab.name}-bystander"
    podman("run", "-d", "--name", bystander, STEP_IMAGE, "sleep", "300")
    try:
        before = podman_objects(podman_lab.name)
        assert len(before["containers"]) >= 5 and len(before["volumes"]) == 4 and before["networks"], before
        removed = compose_layer.destroy(podman_lab.ctx)
        assert sorted(removed.containers) == sorted(before["containers"])
        assert podman_objects(podman_lab.name) == {"containers": [], "volumes": [], "networks": []}
        assert podman("container", "exists", bystander, check=False).returncode == 0
    finally:
        podman("rm", "-f", bystander, check=False)
