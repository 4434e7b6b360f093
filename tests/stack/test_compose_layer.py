"""Compose layer without an engine: error translation, the wait helper, port holders, the env file."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from python_on_whales.exceptions import DockerException

from gitopslab import wait
from gitopslab.cli import main
from gitopslab.context import Context
from gitopslab.drivers import engine, ports
from gitopslab.errors import EngineError, LabError, WaitTimeout
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render import compose_env
from gitopslab.stack import compose_layer
from tests.fakes.clock import FakeClock


def _exc(stderr: str, cmd: tuple[str, ...] = ("docker", "compose", "up")) -> DockerException:
    return DockerException(list(cmd), 1, b"", stderr.encode())


# --- translate: one line, the most specific error, secrets removed ---------------------------------
def test_engine_down_is_one_line_with_the_fix() -> None:
    err = engine.translate(_exc("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                                "Is the docker daemon running?"), "starting gitea")
    assert err.message == "starting gitea: the container engine does not answer"
    assert "start Docker" in (err.hint or "")


def test_compose_missing_names_the_install_command() -> None:
    err = engine.translate(_exc("docker: 'compose' is not a docker command.\nSee 'docker --help'"), "up")
    assert "Compose v2 is missing" in err.message
    assert "gitopslab tools install docker-compose" in (err.hint or "")


@pytest.mark.parametrize("template", [
    "Error response from daemon: driver failed programming external connectivity on endpoint x-gitea "
    "(0a1b): Bind for 127.0.0.1:{port} failed: port is already allocated",
    "Error response from daemon: driver failed programming external connectivity on endpoint x-gitea "
    "(0a1b): Error starting userland proxy: listen tcp4 127.0.0.1:{port}: bind: address already in use",
])
def test_port_taken_names_port_and_holder(template: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        err = engine.translate(_exc(template.format(port=port)), "starting gitea")
    assert f"port {port} on 127.0.0.1 is taken by python (PID" in err.message
    assert f"(PID {os.getpid()})" in err.message and "\n" not in err.message


def test_image_missing_names_the_image() -> None:
    err = engine.translate(_exc("Error response from daemon: pull access denied for gitopslab-nope, "
                                "repository does not exist or may require 'docker login'"), "pulling")
    assert "image gitopslab-nope is not available" in err.message
    assert "images:" in (err.hint or "")


def test_secrets_never_reach_the_message() -> None:
    secret = "s3cr3t-value-0123456789"
    err = engine.translate(_exc(f"level=fatal msg=\"bad env WOODPECKER_GITEA_SECRET={secret} and {secret}x\""),
                           "starting woodpecker", secrets=[secret])
    assert secret not in str(err)
    assert err.message.startswith("starting woodpecker failed:")


def test_subnet_clash_points_at_the_setting() -> None:
    err = engine.translate(_exc("Error response from daemon: Pool overlaps with other one on this address space"),
                           "creating network")
    assert "network.subnet" in (err.hint or "")


# --- the wait helper -----------------------------------------------------------------------------
def test_wait_returns_when_ready() -> None:
    clock = FakeClock()
    answers = iter([(False, "starting"), (False, "starting"), (True, "healthy")])
    seen = wait.until(lambda: next(answers), component="gitea", awaited="healthy", timeout=30, interval=2,
                      next_command="gitopslab logs gitea", clock=clock, sleep=clock.sleep)
    assert seen == "healthy" and clock.now == 1004.0


def test_wait_timeout_names_component_awaited_last_state_logs_and_next_command() -> None:
    clock = FakeClock()
    clock.now = 5.0  # the deadline comes from the clock at the start of the wait, not at import

    def probe() -> tuple[bool, str]:
        if clock.now < 8:
            raise ConnectionError("refused")
        return False, "container running, health starting"

    with pytest.raises(WaitTimeout) as err:
        wait.until(probe, component="registry", awaited="GET /v2/ answering 200", timeout=10, interval=3,
                   next_command="gitopslab logs registry", logs=lambda: "line one\nlisten failed",
                   transient=(ConnectionError,), clock=clock, sleep=clock.sleep)
    text = str(err.value)
    assert "registry: GET /v2/ answering 200 not reached within 10 s" in text
    assert "last seen: container running, health starting" in text
    assert "| listen failed" in text
    assert err.value.hint == "gitopslab logs registry"
    assert clock.now == 15.0


def test_wait_keeps_the_transient_error_as_last_state() -> None:
    clock = FakeClock()

    def probe() -> tuple[bool, str]:
        raise ConnectionError("connection refused")

    with pytest.raises(wait.ComponentTimeout) as err:
        wait.until(probe, component="gitea", awaited="healthz", timeout=4, interval=1, next_command="x",
                   transient=(ConnectionError,), clock=clock, sleep=clock.sleep)
    assert err.value.last_state == "ConnectionError: connection refused"


# --- ports ---------------------------------------------------------------------------------------
def test_port_holder_is_this_process() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not ports.is_free(port)
        assert ports.describe(port) == f"{Path('/proc/self/comm').read_text().strip()} (PID {os.getpid()})"
    assert ports.is_free(port)


# --- the env file --------------------------------------------------------------------------------
def test_env_file_has_placeholders_and_proxy_keeps_lab_names_direct() -> None:
    cfg = LabConfig(proxy={"http_proxy": "http://proxy.corp:3128", "no_proxy": "corp.example"})
    env = compose_env.values(cfg, build(cfg))
    assert env["WOODPECKER_GITEA_CLIENT"] == "<secret:woodpecker_gitea_client>"
    assert env["LAB_HTTP_PROXY"] == "http://proxy.corp:3128"
    no_proxy = env["LAB_NO_PROXY"].split(",")
    assert {"corp.example", "gitea.localhost", "registry.localhost", "172.30.80.0/24"} <= set(no_proxy)
    assert "HTTP_PROXY" not in env  # a shell's HTTP_PROXY cannot override the lab's
    assert env["GITEA_PORT"] == "3000" and env["GITEA_URL"] == "http://gitea.localhost:3000"


def test_no_proxy_settings_means_no_proxy_variables() -> None:
    cfg = LabConfig()
    assert not any(k.startswith("LAB_") and k.endswith("PROXY") for k in compose_env.values(cfg, build(cfg)))


def test_shell_variables_that_would_override_the_lab_are_refused(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / "lab.env"
    cfg = LabConfig(name="shadow")
    env.write_text(compose_env.render(cfg, build(cfg)))
    info = engine.EngineInfo("docker", "/usr/bin/docker", "20.10", "1.41", "linux")
    lab = engine.ComposeLab(info, "shadow", compose_layer.compose_file(), env)
    monkeypatch.setenv("GITEA_PORT", "4000")
    with pytest.raises(EngineError) as err:
        lab._refuse_shadowed()
    assert "GITEA_PORT" in err.value.message and "unset GITEA_PORT" in (err.value.hint or "")


def test_env_file_in_state_is_private(tmp_path: Path) -> None:
    ctx = Context.from_config(LabConfig(name="private"))
    compose_layer.write_files(ctx)
    env = compose_layer.env_file(ctx)
    assert env.stat().st_mode & 0o777 == 0o600
    assert ctx.state.secret("woodpecker_agent_secret") in env.read_text()
    assert "listen" in compose_layer.edge_config_file(ctx).read_text()


def test_woodpecker_step_refuses_without_the_oauth_client() -> None:
    ctx = Context.from_config(LabConfig(name="nooauth"))
    with pytest.raises(LabError) as err:
        compose_layer.woodpecker_step().apply(ctx)
    assert "woodpecker_gitea_client" in err.value.message and "gitopslab up" in (err.value.hint or "")
    assert not compose_layer.env_file(ctx).exists()  # refused before anything was written or started


class _RecreatedGitea:
    """Compose as Podman 4.3 drives it: starting Woodpecker recreated Gitea, which is not healthy yet."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def up(self, services: tuple[str, ...], *args: object) -> None:
        self.started.extend(services)

    def ps(self) -> list[engine.ServiceStatus]:
        health = {"gitea": "starting"}
        return [engine.ServiceStatus(service=s, container=f"recreated-{s}", state="running",
                                     health=health.get(s, "none"), image="img")
                for s in ("gitea", "registry", "woodpecker-server", "woodpecker-agent")]

    def container_logs(self, name: str) -> str:
        return f"{name}: starting"


def test_woodpecker_step_waits_for_the_gitea_compose_recreated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next step signs in to Gitea; a Woodpecker step that returned while Gitea restarted made it time
    out on Podman (CI, 2026-12-07: POST /user/login timed out after the Woodpecker step)."""
    ctx = Context.from_config(LabConfig(name="recreated", timeouts={"service_ready": 0.2, "poll_interval": 0.05}))
    for name in compose_layer.OAUTH_SECRETS:
        ctx.state.put_secret(name, "x" * 20)
    fake = _RecreatedGitea()
    monkeypatch.setattr(compose_layer, "lab", lambda c: fake)
    with pytest.raises(WaitTimeout) as err:
        compose_layer.woodpecker_step().apply(ctx)
    assert fake.started == ["woodpecker-server", "woodpecker-agent"]
    assert "gitea:" in str(err.value) and "health starting" in str(err.value)
    assert not compose_layer.woodpecker_step().done(ctx)


def test_steps_are_core_then_woodpecker() -> None:
    ctx = Context.from_config(LabConfig(name="order"))
    assert [s.name for s in compose_layer.steps(ctx)] == ["compose.core", "compose.woodpecker"]


def test_logs_unknown_service_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "nosuch"]) == 2  # argocd is a cluster service now: tests/commands/test_logs.py
    assert "no lab service 'nosuch'" in capsys.readouterr().err


def test_engine_that_does_not_answer_stops_before_compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    ctx = Context.from_config(LabConfig(name="noengine", engine="docker"))
    with pytest.raises(EngineError) as err:
        compose_layer.status(ctx)
    assert err.value.message.startswith("no container engine answers")
    assert "DOCKER_HOST" in (err.value.hint or "")
    assert not ctx.state.dir.exists()


def test_compose_missing_is_reported_with_the_install_command(tmp_path: Path) -> None:
    # A CLI that answers like docker without the compose plugin (the message docker prints).
    cli = tmp_path / "docker"
    cli.write_text("#!/bin/sh\necho \"docker: '$1' is not a docker command.\" >&2\nexit 1\n")
    cli.chmod(0o755)
    info = engine.EngineInfo("docker", str(cli), "20.10", "1.41", "linux")
    with pytest.raises(EngineError) as err:
        engine.ensure_compose(info)
    assert "Docker Compose v2 is missing" in err.value.message
    assert "gitopslab tools install docker-compose" in (err.value.hint or "")
