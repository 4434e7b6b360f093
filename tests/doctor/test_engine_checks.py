"""Compose container checks and the Links container horizon on the real engine, with stand-in
containers from the busybox image (labelled like the lab's, plus io.gitopslab.test=1)."""

from __future__ import annotations

import subprocess
import time

import pytest

from gitopslab.doctor import compose, links

pytestmark = pytest.mark.engine


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=60)


@pytest.fixture
def cleanup():
    made: list[tuple[str, str]] = []
    yield made
    for kind, name in reversed(made):
        _docker(*(["rm", "-f"] if kind == "container" else ["network", "rm"]), name, check=False)


def _standin(cleanup, image, lab, service, name, health="true", cmd="sleep 600", extra=()):
    args = ["run", "-d", "--name", name, "--label", "io.gitopslab.test=1", "--label", f"io.gitopslab.lab={lab}",
            "--label", f"com.docker.compose.service={service}", "--label", f"com.docker.compose.project={lab}",
            "--health-cmd", health, "--health-interval", "1s", "--health-retries", "1", *extra, image,
            "sh", "-c", cmd]
    cleanup.append(("container", name))
    _docker(*args)


def _wait_status(name: str, word: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if word in _docker("ps", "-a", "--filter", f"name=^{name}$", "--format", "{{.Status}}").stdout:
            return
        time.sleep(0.3)
    raise AssertionError(f"{name} never showed {word!r}")


def test_no_container_of_the_lab_is_one_red_line(engine, make_probe):
    p = make_probe()
    res = compose.project(p)
    assert res.status == "fail" and "compose layer is not up" in res.detail and res.fix == "gitopslab up"


def test_running_healthy_unhealthy_exited_and_missing_containers(engine, busybox_image, make_probe, cleanup,
                                                                 unique_name):
    p = make_probe()
    lab = p.cfg.name
    _standin(cleanup, busybox_image, lab, "gitea", f"{unique_name}-gitea")
    _standin(cleanup, busybox_image, lab, "registry", f"{unique_name}-registry", health="false")
    _standin(cleanup, busybox_image, lab, "woodpecker-server", f"{unique_name}-wp", cmd="exit 3")
    _wait_status(f"{unique_name}-gitea", "(healthy)")
    _wait_status(f"{unique_name}-registry", "(unhealthy)")
    _wait_status(f"{unique_name}-wp", "Exited")
    assert compose.project(p).status == "ok"
    assert compose._container_check("gitea")(p).status == "ok"
    res = compose._container_check("registry")(p)
    assert res.status == "fail" and "healthcheck fails" in res.detail
    res = compose._container_check("woodpecker-server")(p)
    assert res.status == "fail" and "exited" in res.detail and "gitopslab logs woodpecker-server" in res.fix
    res = compose._container_check("woodpecker-agent")(p)
    assert res.status == "fail" and "no woodpecker-agent container" in res.detail


def test_links_from_a_container_on_the_lab_network(engine, busybox_image, make_probe, cleanup, unique_name):
    from tests.fakes.doctor_standins import free_port

    gitea_port, wp_port = free_port(), free_port()
    p = make_probe(timeout=3.0, name=unique_name, images={"edge": busybox_image},
                   ports={"gitea": gitea_port, "woodpecker": wp_port})
    net = p.topo.network
    cleanup.append(("network", net))
    _docker("network", "create", "--label", "io.gitopslab.test=1", net)
    assert compose.network(p).status == "ok"
    # One stand-in answers as gitea.localhost (HTTP on the gitea port); woodpecker.localhost has no server.
    _standin(cleanup, busybox_image, p.cfg.name, "gitea", f"{unique_name}-gitea",
             cmd=f"mkdir -p /www/api && echo '{{}}' > /www/api/healthz && httpd -f -p {gitea_port} -h /www",
             extra=("--network", net, "--network-alias", "gitea.localhost"))
    _standin(cleanup, busybox_image, p.cfg.name, "woodpecker-server", f"{unique_name}-wp",
             extra=("--network", net, "--network-alias", "woodpecker.localhost"))
    time.sleep(0.5)
    t0 = time.monotonic()
    lines = {r.name: r for r in links.container(p)}
    assert time.monotonic() - t0 < p.timeout + 1.5
    assert f"container:gitea.localhost:{gitea_port}" not in lines  # reached: no red line for it
    bad = lines[f"container:woodpecker.localhost:{wp_port}"]
    assert bad.status == "fail" and "refused" in bad.detail.lower()
    assert "bad address" in lines["container:mlflow.localhost:8090"].detail  # no alias: name unknown


def test_links_probe_image_missing_is_a_skip_with_the_pull_command(engine, make_probe):
    p = make_probe(images={"edge": "gitopslab-no-such-image:0"})
    (res,) = links.container(p)
    assert res.status == "skip" and "docker pull gitopslab-no-such-image:0" in res.detail
