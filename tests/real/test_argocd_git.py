"""Issue 22.1: Argo CD's repo-server reaches the lab's Gitea by its one URL.

The real repo-server (the argocd binary the cluster tier builds) runs in a container on the lab network
with the environment, arguments and mounts of the lab's manifests (tests/real/argocd_pod.py reads them
from Argo CD's install manifest merged with gitopslab's rendered objects), and answers GenerateManifest
for the GitOps repo in the real Gitea, cloned by `http://gitea.localhost:<port>/platform/gitops.git`
with the read-only bot's token, as the application controller asks it in a lab.

The second test pins the upstream behaviour behind the fix: with the GIT_CONFIG_* variables on its
Deployment (what the lab rendered before), Argo CD's built-in git config overrides them and git dials
its own loopback.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitopslab.render import argocd as objs
from gitopslab.render.git_env import git_resolve_env
from gitopslab.stack.gitea import rbac as gitea_rbac
from gitopslab.stack.gitea.seed import seed_gitea, whales_exec
from tests.real import argocd_pod
from tests.real.conftest import ForgeLab
from tests.real.repo_server_grpc import GrpcError, Repo, generate_manifest, manifest_request

pytestmark = pytest.mark.engine
REPO = Path(__file__).resolve().parents[2]
GRPC_PORT = 8081  # the repo-server's --port default (the install manifest's containerPort)


@pytest.fixture(scope="module")
def repo_server_image(real_cluster_programs: None) -> str:
    return argocd_pod.ensure_image()


@pytest.fixture(scope="module")
def seeded(forge_lab: ForgeLab) -> ForgeLab:
    from python_on_whales import DockerClient

    seed_gitea(forge_lab.ctx, whales_exec(DockerClient(), f"{forge_lab.name}-gitea"))
    return forge_lab


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _started(lab: ForgeLab, objects: dict[tuple[str, str], Any], root: Path, image: str) -> Iterator[str]:
    """The repo-server container of the lab's pod; yields its gRPC address on 127.0.0.1."""
    name, port = f"{lab.name}-argocd-repo-server-{uuid.uuid4().hex[:6]}", _free_port()
    argv = argocd_pod.docker_run_args(objects, root, name=name, network=lab.ctx.topo.network, image=image)
    argv[argv.index("--name"):argv.index("--name")] = ["-p", f"127.0.0.1:{port}:{GRPC_PORT}"]
    started = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    try:
        deadline, logs = time.monotonic() + 60, ""
        while time.monotonic() < deadline:
            logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, timeout=30).stderr
            if "argocd-repo-server is listening on" in logs:
                break
            running = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", name], capture_output=True,
                                     text=True, timeout=30).stdout.strip()
            assert running == "true", f"the repo-server exited; its log:\n{logs[-3000:]}"
            time.sleep(0.5)
        else:
            raise AssertionError(f"the repo-server did not listen within 60 s; its log:\n{logs[-3000:]}")
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)


def _lab_objects(lab: ForgeLab) -> dict[tuple[str, str], Any]:
    secrets = lab.ctx.state.secrets()
    return argocd_pod.lab_objects(argocd_pod.install_manifest(), objs.objects(lab.ctx.cfg, lab.ctx.topo, secrets))


def _ask(lab: ForgeLab, address: str) -> list[dict[str, Any]]:
    """GenerateManifest for the GitOps repo's projects/ folder, with the repository Secret `up` applies."""
    creds = objs.repo_secret(lab.ctx.cfg, lab.ctx.topo, lab.ctx.state.secrets())["stringData"]
    assert creds["url"] == f"{lab.ctx.topo.service('gitea').url}/{gitea_rbac.ORG}/gitops.git"  # the lab URL
    request = manifest_request(Repo(creds["url"], creds["username"], creds["password"]), "projects", "main",
                               "gitopslab-probe")
    answer = generate_manifest(address, request)
    assert len(answer.revision) == 40, answer
    return [yaml.safe_load(m) for m in answer.manifests]


def test_the_real_repo_server_with_the_labs_manifests_generates_from_gitea_by_its_lab_url(
        seeded: ForgeLab, repo_server_image: str, tmp_path: Path) -> None:
    objects = _lab_objects(seeded)
    (container,) = [c for c in argocd_pod.repo_server_pod(objects)["containers"]
                    if c["name"] == argocd_pod.REPO_SERVER]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["GIT_CONFIG_GLOBAL"] == objs.GIT_CONFIG_FILE  # read from the rendered manifests, not restated
    with _started(seeded, objects, tmp_path / "volumes", repo_server_image) as address:
        manifests = _ask(seeded, address)
    shipped = {d["metadata"]["name"] for p in (REPO / "gitops" / "projects").glob("*.yaml")
               for d in yaml.safe_load_all(p.read_text()) if d and d["kind"] == "AppProject"}
    assert shipped and {m["metadata"]["name"] for m in manifests if m["kind"] == "AppProject"} == shipped


def test_argo_cds_built_in_git_config_overrides_git_variables_on_its_deployment(
        seeded: ForgeLab, repo_server_image: str, tmp_path: Path) -> None:
    """Upstream behaviour the fix works around (util/git/client.go appends GIT_CONFIG_COUNT=2 after the
    environment): the same pod with the lab's old GIT_CONFIG_* variables instead of the file fails, the
    fetch sent to the container's own loopback by libcurl's `*.localhost` rule."""
    objects = _lab_objects(seeded)
    pod = argocd_pod.repo_server_pod(objects)
    container = pod["containers"][0]
    container["env"] = [e for e in container["env"] if e["name"] != "GIT_CONFIG_GLOBAL"]
    container["env"] += [{"name": k, "value": v} for k, v in git_resolve_env(seeded.ctx.topo).items()]
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["name"] != objs.GIT_CONFIG]
    pod["volumes"] = [v for v in pod["volumes"] if v["name"] != objs.GIT_CONFIG]
    gitea = seeded.ctx.topo.service("gitea")
    with _started(seeded, objects, tmp_path / "volumes", repo_server_image) as address, \
            pytest.raises(GrpcError) as failed:
        _ask(seeded, address)
    assert f"{gitea.hostname} port {gitea.port}" in failed.value.message, failed.value.message
    assert gitea_rbac.ORG in failed.value.message  # it was the fetch of platform/gitops that failed
