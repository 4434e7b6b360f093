"""How benchmarks/serving.py starts each server it measures, and times its start-up: hello-api (the
template's image), `mlflow models serve`, KServe's sklearn model server, and two null servers (Python
asyncio and Go) that do no work and show the floor. Every server listens on 127.0.0.1 of the host's
network, pinned to the servers' CPUs; each start-up is timed to its first 200 on its predict route."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

from benchmarks import serving_kserve
from tests.support import services

REPO = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def private_env_file(values: dict[str, str]) -> Path:
    """A 0600 env file in a fresh private folder: the S3 keys go to `docker run` through it, never argv."""
    path = Path(tempfile.mkdtemp(prefix="serving-env-")) / "server.env"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def wait_first_200(url: str, body: bytes, started: float, what: str, timeout: float,
                   logs: Callable[[], str], gone: Callable[[], bool] = lambda: False) -> float:
    """Seconds from `started` to the first 200 from POST url, polled every 10 ms."""
    last = "no answer yet"
    with httpx.Client(timeout=2) as client:
        while time.perf_counter() - started < timeout:
            if gone():
                raise SystemExit(f"{what} exited before it answered {url}; its log:\n{logs()}")
            try:
                answer = client.post(url, content=body, headers={"Content-Type": "application/json"})
                if answer.status_code == 200:
                    return time.perf_counter() - started
                last = f"{answer.status_code} {answer.text[:120]}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.01)
    raise SystemExit(f"{what} gave no 200 on {url} within {timeout:.0f} s (last: {last}); its log:\n{logs()}\n"
                     "next: read the log above; a machine this loaded may need the run repeated later")


class Server:
    def __init__(self, name: str, url: str, bodies: list[dict], root_pid: int, workers: str) -> None:
        self.name, self.url, self.bodies, self.root_pid, self.workers = name, url, bodies, root_pid, workers
        self.startup_s = 0.0


def cpu_shares(nice: int | None) -> list[str]:
    """The container's --cpu-shares that weighs as much as a process at `nice` (the kernel's weight for
    nice 0 is 1024, each step about 1.25x): the container's threads compete as one cgroup against the
    host's processes (the MLflow server among them), so renicing its threads alone would not lift it."""
    return [] if nice is None else ["--cpu-shares", str(min(262144, max(2, round(1024 / 1.25 ** nice))))]


def remove_container(name: str) -> None:
    """docker rm -f, said out loud when it fails (a loaded engine can time out or refuse it)."""
    try:
        done = subprocess.run(["docker", "rm", "-f", name], capture_output=True, text=True, timeout=120)
        problem = done.stderr.strip() if done.returncode else ""
    except subprocess.TimeoutExpired:
        problem = "docker rm -f took over 120 s"
    if problem:
        log(f"could not remove the container {name}: {problem[-300:]}; remove it with: docker rm -f {name}")


def start_hello(stack: ExitStack, image: str, s3_url: str, obj: str, sha: str, cpus: str | None,
                rows: list[list[float]], nice: int | None) -> Server:
    name = f"serving-bench-{os.getpid()}"
    port = services.free_port()
    env = {"PORT": str(port), "HOST": "127.0.0.1", "MODEL_OBJECT": obj, "MODEL_SHA": sha,
           "S3_ENDPOINT_URL": s3_url, "MODEL_RETRY_SECONDS": "1", **services.S3_KEYS}
    env_file = private_env_file(env)
    pin = (["--cpuset-cpus", cpus] if cpus else []) + cpu_shares(nice)
    stack.callback(lambda: shutil.rmtree(env_file.parent, ignore_errors=True))
    started = time.perf_counter()
    done = subprocess.run(["docker", "run", "-d", "--name", name, "--network", "host", "--label",
                           "io.gitopslab.bench=serving", *pin, "--env-file", str(env_file), image],
                          capture_output=True, text=True, timeout=120)
    stack.callback(remove_container, name)
    if done.returncode != 0:
        raise SystemExit(f"docker run {image} failed: {done.stderr.strip()[-1000:]}\nnext: `docker info` "
                         "(is an engine up? scripts/engine-up.sh), or --image with an image built from "
                         "pipelines/hello-api")
    url = f"http://127.0.0.1:{port}/predict"
    first = json.dumps({"features": rows[0]}).encode()
    startup = wait_first_200(url, first, started, "hello-api", 120, lambda: subprocess.run(
        ["docker", "logs", "--tail", "30", name], capture_output=True, text=True).stderr)
    pid = int(subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", name], capture_output=True, text=True,
                             check=True).stdout)
    server = Server("hello-api", url, [{"features": r} for r in rows], pid, "1 uvicorn process (python -m app)")
    server.startup_s = startup
    return server


def start_mlflow(stack: ExitStack, tmp: Path, tracking: str, cpus: str | None, rows: list[list[float]]) -> Server:
    port = services.free_port()
    argv = [services.tool("mlflow"), "models", "serve", "-m", "models:/iris-classifier@production",
            "--env-manager", "local", "--host", "127.0.0.1", "-p", str(port)]
    argv = ["taskset", "-c", cpus, *argv] if cpus else argv
    logfile = tmp / "mlflow-serve.log"
    # As in an activated venv: the CLI starts `uvicorn` by name.
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking,
           "PATH": f"{services.VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("MLFLOW_MODELS_WORKERS", None)  # its default, 1 worker, as the lab's deployment runs it
    started = time.perf_counter()
    with logfile.open("wb") as fh:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    stack.callback(services.stop_group, proc, 15)
    url = f"http://127.0.0.1:{port}/invocations"
    first = json.dumps({"inputs": [rows[0]]}).encode()
    startup = wait_first_200(url, first, started, "mlflow models serve", 180,
                             lambda: logfile.read_text(errors="replace")[-3000:], lambda: proc.poll() is not None)
    server = Server("mlflow", url, [{"inputs": [r]} for r in rows], proc.pid,
                    "1 uvicorn worker (its default) + the `mlflow` CLI parent")
    server.startup_s = startup
    return server


def _start_null(stack: ExitStack, argv: list[str], port: int, cpus: str | None, rows: list[list[float]],
                name: str, workers: str) -> Server:
    """A server that does no work, pinned and measured like the others: the floor."""
    proc = subprocess.Popen(["taskset", "-c", cpus, *argv] if cpus else argv, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    stack.callback(services.stop_group, proc, 10)
    url = f"http://127.0.0.1:{port}/predict"
    wait_first_200(url, b"{}", time.perf_counter(), f"the {name} server", 30, lambda: "(no log)",
                   lambda: proc.poll() is not None)
    return Server(name, url, [{"features": r} for r in rows], proc.pid, workers)


def start_null(stack: ExitStack, cpus: str | None, rows: list[list[float]]) -> Server:
    """benchmarks/serving_load.py's null server (Python asyncio)."""
    port = services.free_port()
    argv = [sys.executable, str(REPO / "benchmarks" / "serving_load.py"), "--serve-null", str(port)]
    return _start_null(stack, argv, port, cpus, rows, "null", "1 asyncio process that does no work")


def start_null_go(stack: ExitStack, loadgen: Path, cpus: str | None, rows: list[list[float]]) -> Server:
    """The floor without Python: benchmarks/loadgen's null server (one goroutine per connection)."""
    port = services.free_port()
    return _start_null(stack, [str(loadgen), "-serve-null", str(port)], port, cpus, rows, "null-go",
                       "1 Go process that does no work")


def start_kserve(stack: ExitStack, tmp: Path, s3_url: str, uri: str, cpus: str | None, rows: list[list[float]],
                 nice: int | None) -> Server:
    """KServe's sklearn server as an InferenceService's predictor runs it: the storage initializer fetches
    the model from S3 into /mnt/models first (an init container in the cluster), then the server loads
    it. Start-up runs from the initializer's `docker run` to the first 200, the fetch included."""
    try:
        deps, source = serving_kserve.deps("docker"), serving_kserve.source()
    except (AssertionError, OSError, subprocess.SubprocessError) as exc:
        raise SystemExit(f"KServe's model server cannot be prepared: {exc}\nnext: its packages come from PyPI "
                         "and its source from ../shared/upstream (tests/real/kserve_server.py); or leave it out: "
                         "--servers hello-api,mlflow") from exc
    models = tmp / "kserve-models"
    models.mkdir()
    env_file = private_env_file(services.S3_KEYS)
    stack.callback(lambda: shutil.rmtree(env_file.parent, ignore_errors=True))
    name = f"serving-bench-kserve-{os.getpid()}"
    port, grpc_port = services.free_port(), services.free_port()
    pin = (["--cpuset-cpus", cpus] if cpus else []) + cpu_shares(nice)
    started = time.perf_counter()
    fetch = subprocess.run(serving_kserve.storage_argv(deps, models, env_file, s3_url, uri), capture_output=True,
                           text=True, timeout=300)
    if fetch.returncode != 0:
        raise SystemExit(f"KServe's storage initializer could not fetch {uri}: {fetch.stderr.strip()[-1500:]}")
    done = subprocess.run(serving_kserve.server_argv(name, deps, source, models, port, grpc_port, pin),
                          capture_output=True, text=True, timeout=120)
    stack.callback(remove_container, name)
    if done.returncode != 0:
        raise SystemExit(f"docker run (KServe's sklearn server) failed: {done.stderr.strip()[-1000:]}")
    url = f"http://127.0.0.1:{port}/v1/models/{serving_kserve.MODEL_NAME}:predict"
    first = json.dumps({"instances": [rows[0]]}).encode()
    startup = wait_first_200(url, first, started, "KServe's sklearn server", 180, lambda: subprocess.run(
        ["docker", "logs", "--tail", "30", name], capture_output=True, text=True).stderr)
    pid = int(subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", name], capture_output=True, text=True,
                             check=True).stdout)
    server = Server("kserve", url, [{"instances": [r]} for r in rows], pid,
                    "1 uvicorn worker (kserve's default --workers 1), gRPC server on too (its default)")
    server.startup_s = startup
    return server
