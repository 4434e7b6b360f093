"""The compose layer on a real engine, with locally built stand-in images named through configuration
(`images:`): same compose file, same ports, health paths and healthchecks as the real components.

One lab (module scope) goes through: up healthy -> loopback-only ports -> names resolve in the lab
network -> a second run changes nothing -> a killed container is reported and healed -> logs ->
data survives down + up -> destroy. Other tests use their own labs that never start anything.
Every lab has its own name, /24 subnet, free ports and state dir, and is destroyed in a finalizer.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitopslab.cli import main
from gitopslab.conductor import runner as orchestrator
from gitopslab.context import Context
from gitopslab.errors import EngineError
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.render import compose_env
from gitopslab.stack import compose_layer
from gitopslab.state import LabState
from tests.conftest import need
from tests.support.compose_lab import (
    allow_env,
    build_standins,
    docker,
    force_cleanup,
    lab_objects,
    lab_settings,
    remove_lab,
    write_config,
)

pytestmark = pytest.mark.engine
PROFILES = ([], ["ci"], ["cluster"], ["ci", "cluster"])


@pytest.fixture(scope="session")
def compose_cli(engine: str) -> str:
    """`docker compose` (v2). CI links the venv's docker-compose as the CLI plugin (scripts/test.sh)."""
    ok = subprocess.run([engine, "compose", "version"], capture_output=True, timeout=60).returncode == 0
    need(ok, "`docker compose` (v2) is missing: ln -sf $VENV/bin/docker-compose ~/.docker/cli-plugins/")
    return engine


@pytest.fixture(scope="module")
def standins(compose_cli: str, busybox_image: str, base_image: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tags = build_standins(tmp_path_factory.mktemp("standins"), {"busybox": busybox_image, "base": base_image})
    # The agent's step images are required with it (pulled with the lab); none of them runs here.
    yield tags | dict.fromkeys(compose_layer.COMPONENTS["woodpecker-agent"][2], busybox_image)
    docker("rmi", "-f", *tags.values(), check=False)


@dataclass
class Lab:
    name: str
    config: Path
    state_root: Path
    ctx: Context
    env: dict[str, str]

    def cli(self, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
        monkeypatch.setenv("GITOPSLAB_STATE_DIR", str(self.state_root))
        for key, value in self.env.items():  # the stand-in agent allowed by name, as a user would
            monkeypatch.setenv(key, value)
        return main([*args, "--config", str(self.config)])

    def run_steps(self) -> orchestrator.RunReport:
        return orchestrator.run(self.ctx, compose_layer.steps(self.ctx))

    def container(self, service: str) -> dict:
        return json.loads(docker("inspect", f"{self.name}-{service}").stdout)[0]


def make_lab(root: Path, images: dict[str, str], oauth: bool = True) -> Lab:
    name = f"glt{uuid.uuid4().hex[:8]}"
    config = write_config(root / "gitopslab.yaml", lab_settings(name, images))
    env = allow_env(images)
    cfg = load_config(config, environ=env)
    state_root = root / "state"
    ctx = Context(cfg=cfg, topo=build(cfg), state=LabState(name, state_root))
    if oauth:  # what the Gitea seeding step stores (clients branch)
        ctx.state.put_secret("woodpecker_gitea_client", f"client-{uuid.uuid4().hex}")
        ctx.state.put_secret("woodpecker_gitea_secret", f"secret-{uuid.uuid4().hex}")
    return Lab(name, config, state_root, ctx, env)


@pytest.fixture(scope="module")
def up_lab(standins: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = make_lab(tmp_path_factory.mktemp("lab"), standins)
    try:
        lab.run_steps()
        yield lab
    finally:
        remove_lab(lab.ctx)


def _status(lab: Lab, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    code = lab.cli(monkeypatch, "status", "--json")
    envelope = json.loads(capsys.readouterr().out)
    assert envelope["schema"] == "gitopslab/status" and envelope["version"] == 1
    return code, {s["service"]: s for s in envelope["data"]["services"]}


def test_layer_comes_up_healthy(up_lab: Lab, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    code, services = _status(up_lab, monkeypatch, capsys)
    assert code == 0
    assert set(services) == {"gitea", "registry", "woodpecker-server", "woodpecker-agent"}
    for svc in services.values():
        assert (svc["state"], svc["health"]) == ("running", "healthy"), svc
    # The env file compose read holds the real secrets, so it is private to the user.
    env = compose_layer.env_file(up_lab.ctx)
    assert env.stat().st_mode & 0o777 == 0o600
    assert up_lab.ctx.state.secret("woodpecker_gitea_client") in env.read_text()
    # The server got the OAuth client from state, not a placeholder.
    server_env = up_lab.container("woodpecker-server")["Config"]["Env"]
    assert f"WOODPECKER_GITEA_CLIENT={up_lab.ctx.state.secret('woodpecker_gitea_client')}" in server_env
    # The registry is a real one: it answers the v2 API on the published port, from the host.
    topo = up_lab.ctx.topo
    import httpx

    answer = httpx.get(f"http://127.0.0.1:{topo.service('registry').port}/v2/", timeout=10)
    assert answer.status_code == 200


def test_ports_bind_loopback_only(up_lab: Lab) -> None:
    topo = up_lab.ctx.topo
    expected = {"gitea": topo.service("gitea").port, "registry": topo.service("registry").port,
                "woodpecker-server": topo.service("woodpecker").port}
    for service, port in expected.items():
        info = up_lab.container(service)
        bindings = [b for binds in info["NetworkSettings"]["Ports"].values() for b in (binds or [])]
        assert bindings, f"{service} publishes nothing"
        assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}, (service, bindings)
        assert {b["HostPort"] for b in bindings} == {str(port)}
        # Same port inside the network: the container listens on the published port.
        assert f"{port}/tcp" in info["NetworkSettings"]["Ports"]
    assert not up_lab.container("woodpecker-agent")["NetworkSettings"]["Ports"]


def test_names_resolve_from_the_lab_network(up_lab: Lab, busybox_image: str) -> None:
    topo = up_lab.ctx.topo
    checks = []
    for key in ("gitea", "woodpecker", "registry"):
        svc = topo.service(key)
        checks.append(f"nslookup {svc.hostname} && wget -q -O /dev/null {svc.url}{svc.health_path}"
                      f" && echo OK {svc.hostname}")
    script = " && ".join(checks)
    proc = docker("run", "--rm", "--label", "io.gitopslab.test=1", "--network", topo.network,
                  busybox_image, "sh", "-c", script, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for key in ("gitea", "woodpecker", "registry"):
        svc = topo.service(key)
        assert f"OK {svc.hostname}" in proc.stdout
        assert svc.ip in proc.stdout  # the fixed address pods are given through hostAliases


def test_second_run_changes_nothing(up_lab: Lab) -> None:
    report = up_lab.run_steps()
    assert [o.action for o in report.outcomes] == ["skipped", "skipped"]
    assert not report.changed


def test_killed_container_is_reported_and_healed(up_lab: Lab, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    docker("kill", f"{up_lab.name}-registry")
    code, services = _status(up_lab, monkeypatch, capsys)
    assert code == 1
    assert services["registry"]["state"] == "exited" and not services["registry"]["ok"]
    assert services["gitea"]["ok"]
    report = up_lab.run_steps()
    assert [o.action for o in report.outcomes] == ["applied", "skipped"]
    code, services = _status(up_lab, monkeypatch, capsys)
    assert code == 0 and services["registry"]["state"] == "running"


def test_logs_of_one_service(up_lab: Lab, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert up_lab.cli(monkeypatch, "logs", "gitea", "--tail", "20") == 0
    out = capsys.readouterr().out
    assert f"gitea stand-in: listening on :{up_lab.ctx.topo.service('gitea').port}" in out
    assert "woodpecker-server stand-in" not in out
    assert up_lab.cli(monkeypatch, "logs", "nosuch") == 2


def test_data_survives_down_and_up(up_lab: Lab, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    marker = uuid.uuid4().hex
    docker("exec", f"{up_lab.name}-gitea", "sh", "-c", f"echo {marker} > /data/gitea/marker")
    assert up_lab.cli(monkeypatch, "down") == 0
    objs = lab_objects(up_lab.name)
    assert objs["containers"] == []
    assert f"{up_lab.name}-gitea-data" in objs["volumes"]
    assert objs["networks"] == [up_lab.ctx.topo.network]  # kept: a stopped cluster refers to it
    code, _ = _status(up_lab, monkeypatch, capsys)
    assert code == 0  # down is not broken
    up_lab.run_steps()
    read = docker("exec", f"{up_lab.name}-gitea", "cat", "/data/gitea/marker")
    assert read.stdout.strip() == marker


def test_destroy_removes_only_this_lab(up_lab: Lab, busybox_image: str, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    # A foreign container whose lab label differs only by a suffix: an exact label match must spare it.
    foreign = f"{up_lab.name}x-foreign"
    docker("run", "-d", "--name", foreign, "--label", "io.gitopslab.test=1",
           "--label", f"io.gitopslab.lab={up_lab.name}x", busybox_image, "sleep", "600")
    try:
        before = lab_objects(up_lab.name)
        capsys.readouterr()
        assert up_lab.cli(monkeypatch, "destroy") == 2
        out = capsys.readouterr().out
        assert f"{up_lab.name}-gitea" in out and f"{up_lab.name}-gitea-data" in out and "--yes" in out
        assert lab_objects(up_lab.name) == before  # nothing removed without --yes

        assert up_lab.cli(monkeypatch, "destroy", "--yes") == 0
        assert lab_objects(up_lab.name) == {"containers": [], "volumes": [], "networks": []}
        state = docker("inspect", "-f", "{{.State.Running}}", foreign).stdout.strip()
        assert state == "true"
    finally:
        docker("rm", "-f", foreign, check=False)


# --- labs that must never start anything ----------------------------------------------------------


@pytest.fixture
def idle_lab(standins: dict[str, str], tmp_path: Path) -> Iterator[Lab]:
    lab = make_lab(tmp_path, standins)
    yield lab
    force_cleanup(lab.name)


def test_taken_port_names_port_and_holder_and_starts_nothing(idle_lab: Lab) -> None:
    port = idle_lab.ctx.topo.service("gitea").port
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        with pytest.raises(EngineError) as err:
            idle_lab.run_steps()
    message = err.value.message
    assert f"port {port}" in message and f"(PID {os.getpid()})" in message, message
    assert "\n" not in message and "ports:" in (err.value.hint or "")
    assert lab_objects(idle_lab.name) == {"containers": [], "volumes": [], "networks": []}


def test_missing_image_is_named_and_starts_nothing(standins: dict[str, str], tmp_path: Path) -> None:
    missing = f"gitopslab-missing-{uuid.uuid4().hex[:8]}:none"
    lab = make_lab(tmp_path, {**standins, "registry": missing})
    try:
        with pytest.raises(EngineError) as err:
            lab.run_steps()
        assert missing in err.value.message and "(registry)" in err.value.message
        assert "images.registry" in (err.value.hint or "")
        assert lab_objects(lab.name) == {"containers": [], "volumes": [], "networks": []}
    finally:
        force_cleanup(lab.name)


def test_destroy_without_yes_on_empty_lab_exits_2(idle_lab: Lab, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert idle_lab.cli(monkeypatch, "destroy") == 2
    assert "containers: (none)" in capsys.readouterr().out


def test_compose_config_validates_every_profile(compose_cli: str, tmp_path: Path) -> None:
    """`docker compose config` accepts the file with the default settings' env (placeholders for secrets)."""
    cfg = load_config(None, environ={})
    topo = build(cfg)
    env = tmp_path / "lab.env"
    env.write_text(compose_env.render(cfg, topo, None, str(tmp_path / "nginx.conf")))
    (tmp_path / "nginx.conf").write_text("events {}\n")
    for profiles in PROFILES:
        flags = [arg for p in profiles for arg in ("--profile", p)]
        proc = subprocess.run([compose_cli, "compose", "-f", str(compose_layer.compose_file()), "--env-file",
                               str(env), "-p", "configcheck", *flags, "config", "--services"],
                              capture_output=True, text=True, timeout=60, env=_clean_env())
        assert proc.returncode == 0, proc.stderr
        services = set(proc.stdout.split())
        assert {"gitea", "registry"} <= services
        assert ("woodpecker-server" in services) == ("ci" in profiles)
        assert ("edge" in services) == ("cluster" in profiles)


def _clean_env() -> dict[str, str]:
    cfg = load_config(None, environ={})
    names = compose_env.values(cfg, build(cfg))
    return {k: v for k, v in os.environ.items() if k not in names}

