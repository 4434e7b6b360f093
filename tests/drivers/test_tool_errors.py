"""kubectl and k3d failures become ToolErrors chosen from stderr (real messages), with hints and
without secrets; the one process boundary reports a missing binary plainly."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitopslab.drivers import proc
from gitopslab.drivers.k3d import ClusterNotFound, K3d
from gitopslab.drivers.kube import Kubectl, KubeNotFound
from gitopslab.errors import EngineError, ToolError


def canned(rc: int, stdout: str = "", stderr: str = "") -> proc.Runner:
    def run(argv, *, input=None, timeout=None, env=None):  # type: ignore[no-untyped-def]
        return proc.Completed(tuple(argv), rc, stdout, stderr)

    return run


def kube(runner: proc.Runner, secrets: tuple[str, ...] = ()) -> Kubectl:
    return Kubectl(Path("/state/kubeconfig"), "k3d-lab", runner=runner, secrets=secrets)


def test_not_found_is_its_own_error() -> None:
    k = kube(canned(1, stderr='Error from server (NotFound): secrets "argocd-secret" not found\n'))
    with pytest.raises(KubeNotFound):
        k.get_json("secret", "argocd-secret", "argocd")
    assert k.exists("secret", "argocd-secret", "argocd") is None


def test_cluster_down_names_the_fix() -> None:
    stderr = ("E1123 10:00:00.000000 memcache.go:265] couldn't get current server API group list\n"
              "The connection to the server 127.0.0.1:6550 was refused - did you specify the right host or port?\n")
    with pytest.raises(ToolError) as err:
        kube(canned(1, stderr=stderr)).get_json("pods", all_namespaces=True)
    assert "was refused" in err.value.message and "gitopslab up" in (err.value.hint or "")


def test_secret_in_stderr_is_redacted() -> None:
    stderr = 'Error from server (BadRequest): error when creating "STDIN": password=hunter2-secret is invalid\n'
    with pytest.raises(ToolError) as err:
        kube(canned(1, stderr=stderr), secrets=("hunter2-secret",)).apply(stdin="kind: Secret\n")
    assert "hunter2-secret" not in str(err.value)


def test_k3d_cluster_not_found_and_port_taken() -> None:
    with pytest.raises(ClusterNotFound):
        K3d(runner=canned(1, stderr="FATA[0000] failed to get cluster lab: No nodes found for given cluster\n")
            ).cluster_stop("lab")
    taken = ('ERRO[0003] Failed Cluster Start: Failed to start server k3d-lab-serverlb: Error response from daemon: '
             'driver failed programming external connectivity: Bind for 127.0.0.1:8081 failed: port is already allocated\n')
    with pytest.raises(ToolError) as err:
        K3d(runner=canned(1, stderr=taken)).cluster_create(Path("/state/k3d/cluster.yaml"))
    assert "127.0.0.1:8081" in err.value.message and "gitopslab doctor" in (err.value.hint or "")
    with pytest.raises(EngineError):
        K3d(runner=canned(1, stderr="Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n")
            ).cluster_list()


def test_cluster_list_parses_the_real_format() -> None:
    out = ('[{"name":"lab","network":"lab","token":"x","nodes":[{"name":"k3d-lab-server-0","role":"server",'
           '"State":{"Running":true,"Status":"running"}},{"name":"k3d-lab-serverlb","role":"loadbalancer",'
           '"State":{"Running":true,"Status":"running"}}],"serversRunning":1,"serversCount":1,'
           '"agentsRunning":0,"agentsCount":0,"hasLoadbalancer":true,"imageVolume":"k3d-lab-images"}]')
    info = K3d(runner=canned(0, stdout=out)).cluster_get("lab")
    assert info is not None and info.running and info.nodes[0] == ("k3d-lab-server-0", "server", True)


def test_missing_binary_is_a_tool_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError) as err:
        proc.run([str(tmp_path / "no-such-k3d"), "version"])
    assert "not installed" in err.value.message and "gitopslab tools install no-such-k3d" in (err.value.hint or "")


def test_run_logs_the_command_but_never_stdin(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="gitopslab.drivers.proc")
    result = proc.run(["cat"], input="password: top-secret-value\n")
    assert result.ok and result.stdout == "password: top-secret-value\n"
    assert "run: cat  (stdin: 27 bytes)" in caplog.text and "top-secret-value" not in caplog.text


def test_a_timeout_is_timed_out_a_tool_error_that_callers_can_word_themselves() -> None:
    with pytest.raises(proc.TimedOut) as err:
        proc.run(["sleep", "5"], timeout=0.2)
    assert isinstance(err.value, ToolError) and err.value.message == "`sleep 5` did not finish within 0 s"


def test_env_is_added_or_with_inherit_env_false_the_whole_environment(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_DIR", "/users/own")
    script = ["sh", "-c", 'echo "${GIT_DIR-unset} $X $(pwd)"']
    assert proc.run(script, env={"X": "1"}).stdout.split()[:2] == ["/users/own", "1"]
    done = proc.run(script, env={"X": "2", "PATH": "/usr/bin:/bin"}, inherit_env=False, cwd=tmp_path)
    assert done.stdout.split() == ["unset", "2", str(tmp_path)]


def test_call_returns_the_exit_status_and_a_missing_binary_is_not_found(tmp_path: Path) -> None:
    assert proc.call(["sh", "-c", "exit 3"]) == 3
    with pytest.raises(proc.NotFound):
        proc.call([str(tmp_path / "no-such-kubectl"), "logs"])


# k3d v5's output when the engine cannot reach ghcr.io for its load balancer image (issue 23 item 1):
# the closing FATA line says nothing, the cause is an earlier ERRO line, inside k3d's error chain.
K3D_PROXY_PULL_FAILED = """\
INFO[0000] Prep: Network
INFO[0000] Created network 'k3d-lab'
INFO[0000] Starting new tools node...
INFO[0001] Creating LoadBalancer 'k3d-lab-serverlb'
ERRO[0031] Failed Cluster Creation: failed setup of server/agent node k3d-lab-serverlb: failed to create node: \
runtime failed to create node 'k3d-lab-serverlb': failed to create container for node 'k3d-lab-serverlb': docker \
failed to pull image 'ghcr.io/k3d-io/k3d-proxy:5.9.0': docker failed to pull the image \
'ghcr.io/k3d-io/k3d-proxy:5.9.0': Error response from daemon: Get "https://ghcr.io/v2/": dial tcp: lookup \
ghcr.io on 127.0.0.53:53: server misbehaving
ERRO[0031] Failed to create cluster >>> Rolling Back
INFO[0031] Deleting cluster 'lab'
FATA[0031] Cluster creation FAILED, all changes have been rolled back!
"""


def test_k3d_helper_image_pull_failure_names_the_image_and_the_engines_words() -> None:
    with pytest.raises(EngineError) as err:
        K3d(runner=canned(1, stderr=K3D_PROXY_PULL_FAILED)).cluster_create(Path("/state/k3d/cluster.yaml"))
    message = err.value.message
    assert "could not pull the image ghcr.io/k3d-io/k3d-proxy:5.9.0" in message
    assert 'Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io on 127.0.0.53:53: server misbehaving' in message
    assert "rolled back" not in message
    assert "docker pull ghcr.io/k3d-io/k3d-proxy:5.9.0" in (err.value.hint or "")


def test_k3d_cause_is_its_first_error_line_not_the_closing_one() -> None:
    stderr = ("INFO[0000] Prep: Network\n"
              "ERRO[0002] Failed Cluster Start: Failed to start server k3d-lab-server-0: "
              "Node k3d-lab-server-0 failed to get ready: error waiting for log line\n"
              "ERRO[0002] Failed to create cluster >>> Rolling Back\n"
              "FATA[0003] Cluster creation FAILED, all changes have been rolled back!\n")
    with pytest.raises(ToolError) as err:
        K3d(runner=canned(1, stderr=stderr)).cluster_create(Path("/state/k3d/cluster.yaml"))
    assert err.value.message.endswith("failed: Failed Cluster Start: Failed to start server k3d-lab-server-0: "
                                      "Node k3d-lab-server-0 failed to get ready: error waiting for log line")


@pytest.mark.parametrize(("text", "image"), [
    ('Unable to find image \'gitea/gitea:1.26.4\' locally\ndocker: Error response from daemon: Get '
     '"https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: connection refused.',
     "gitea/gitea:1.26.4"),
    ('Failed to pull image "registry.localhost:5002/hello-api:abc": failed to resolve reference '
     '"registry.localhost:5002/hello-api:abc": not found', "registry.localhost:5002/hello-api:abc"),
    ("Error response from daemon: pull access denied for nope/nothing, repository does not exist",
     "nope/nothing"),
])
def test_pull_failures_of_other_tools_name_the_image(text: str, image: str) -> None:
    from gitopslab.drivers.pull import failure_in

    found = failure_in(text)
    assert found is not None and found.image == image and found.reason
    assert failure_in("INFO[0000] Prep: Network\nFATA[0001] something else") is None
