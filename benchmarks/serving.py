"""hello-api beside `mlflow models serve`: the same trained model, the same open-loop load (issue 26).

    .venv/bin/python benchmarks/serving.py [--rates 500,1500] [--seconds 10] [--image REF]

One self-contained run, bounded (about 3 minutes with the defaults, plus the image build when no
--image is given), everything printed:
1. a real S3 API (moto) and a real MLflow server (sqlite, artifacts proxied to S3), as tests/pipelines
   run them; the pipeline's own train step (pipelines/hello-api/train.py) trains the model, logs it and
   registers it as `iris-classifier`, alias `production`; its model.joblib goes to S3 pinned by sha256.
2. hello-api: the template's image (built here from pipelines/hello-api on the offline base image,
   or --image), one container on the host network: one uvicorn process, as the lab runs it.
   MLflow: `mlflow models serve -m models:/iris-classifier@production --env-manager local`, the
   version the lab pins (the .venv's mlflow), its default of one uvicorn worker, as
   gitops/base/ml/model-serving runs it. Same fitted estimator (one train run); hello-api reads the
   joblib the pipeline uploads, MLflow the copy it logged.
3. Start-up of each: seconds from `docker run` / the process start to the first 200 on its predict
   route (/predict, /invocations), the model fetch included.
4. For each rate, each server in turn: benchmarks/serving_load.py (open-loop, latency counted from each
   request's due time), pinned to the last CPU with taskset; the servers pinned to the other CPUs.
   The same 150 iris rows in the same order, each in its server's schema ({"features": row} and
   {"inputs": [row]}). CPU seconds and peak RSS from /proc, summed over each server's process tree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "pipelines" / "hello-api"
sys.path.insert(0, str(REPO))

from benchmarks import serving_procs  # noqa: E402
from tests.support import services  # noqa: E402

GOAL_P99_MS = 2.0
GOAL_RATIO = 0.5


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_plan() -> tuple[str | None, str | None, str]:
    """(servers' CPUs, generator's CPU, words): the generator alone on the last CPU where there are two
    or more CPUs this process may use and taskset exists."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or not shutil.which("taskset"):
        return None, None, f"not pinned ({len(cpus)} CPU usable{'' if shutil.which('taskset') else ', no taskset'})"
    servers = ",".join(str(c) for c in cpus[:-1])
    return servers, str(cpus[-1]), f"servers on CPU {servers}, load generator on CPU {cpus[-1]} (taskset)"


def renice(root: int, nice: int | None) -> None:
    """Every thread of every process in the tree at `nice` (Linux sets it per thread)."""
    if nice is None:
        return
    for pid in serving_procs.tree(root):
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                os.setpriority(os.PRIO_PROCESS, int(task.name), nice)
            except OSError as exc:  # a thread that just ended; a negative value needs root
                if not isinstance(exc, ProcessLookupError):
                    raise SystemExit(f"--nice {nice}: cannot set the priority of {pid}: {exc} "
                                     "(negative values need root; leave --nice out)") from exc


def train(tmp: Path, mlflow_url: str) -> tuple[bytes, dict]:
    """The pipeline's train step, as train.sh runs it: a registered version and dist/model.joblib."""
    dist = tmp / "dist"
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_url, "CI_COMMIT_SHA": "bench"}
    done = subprocess.run([sys.executable, "train.py", "--model-id", "bench", "--out", str(dist)], cwd=TEMPLATE,
                          env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"train.py failed ({done.returncode}): {done.stderr[-2000:]}")
    return (dist / "model.joblib").read_bytes(), json.loads((dist / "train.json").read_text())


def build_image(base_image: str) -> str:
    from gitopslab.stack import delivery

    if subprocess.run(["docker", "image", "inspect", base_image], capture_output=True).returncode != 0:
        subprocess.run([str(REPO / "scripts" / "build-base-image.sh"), base_image], check=True, timeout=1800)
    ref = "gitopslab-bench/hello-api:serving"
    log(f"building {ref} from pipelines/hello-api on {base_image}")
    return delivery.build_image(ref, base_image=base_image, pip_cert="/etc/ssl/certs/ca-certificates.crt")


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
    env_file = Path(tempfile.mkdtemp(prefix="serving-env-")) / "hello.env"  # keys off the docker argv
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    env_file.chmod(0o600)
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


def start_null(stack: ExitStack, cpus: str | None, rows: list[list[float]]) -> Server:
    """The floor: benchmarks/serving_load.py's null server, pinned and measured like the others."""
    port = services.free_port()
    argv = [sys.executable, str(REPO / "benchmarks" / "serving_load.py"), "--serve-null", str(port)]
    proc = subprocess.Popen(["taskset", "-c", cpus, *argv] if cpus else argv, stdin=subprocess.DEVNULL)
    stack.callback(lambda: (proc.terminate(), proc.wait(10)))
    url = f"http://127.0.0.1:{port}/predict"
    wait_first_200(url, b"{}", time.perf_counter(), "the null server", 30, lambda: "(no log)",
                   lambda: proc.poll() is not None)
    return Server("null", url, [{"features": r} for r in rows], proc.pid, "1 asyncio process that does no work")


def measure(server: Server, rate: float, seconds: float, warmup: float, connections: int, gen_cpu: str | None,
            tmp: Path, nice: int | None) -> dict:
    bodies = tmp / f"bodies-{server.name}.json"
    bodies.write_text(json.dumps(server.bodies))

    def generator(secs: float) -> list[str]:
        argv = [sys.executable, str(REPO / "benchmarks" / "serving_load.py"), "--url", server.url, "--bodies",
                str(bodies), "--rate", str(rate), "--seconds", str(secs), "--connections", str(connections)]
        argv = ["taskset", "-c", gen_cpu, *argv] if gen_cpu else argv
        return ["nice", "-n", str(nice), *argv] if nice is not None else argv

    if warmup > 0:  # its own run, so that the CPU seconds below cover the measured window only
        subprocess.run(generator(warmup) + ["--discard"], capture_output=True, timeout=warmup + 60, check=True)
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:  # the tree's RSS now and then, beside the kernel's high-water mark
        while not stop.wait(0.25):
            peak[0] = max(peak[0], serving_procs.usage(server.root_pid).rss_mb)

    load = load_average()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    before = serving_procs.usage(server.root_pid)
    done = subprocess.run(generator(seconds), capture_output=True, text=True, timeout=seconds + 60)
    after = serving_procs.usage(server.root_pid)
    stop.set()
    sampler.join()
    if done.returncode != 0:
        raise SystemExit(f"load generator failed against {server.name}: {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    cpu = after.cpu_seconds - before.cpu_seconds
    # Per 200: a saturated server answers fewer requests, so its CPU seconds alone would flatter it.
    result.update(server=server.name, load_average=load, cpu_seconds=round(cpu, 2),
                  cpu_us_per_ok=round(cpu / result["ok"] * 1e6) if result["ok"] else None,
                  peak_rss_mb=after.peak_rss_mb, max_sampled_rss_mb=max(peak[0], after.rss_mb),
                  processes=after.processes)
    return result


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "n/a"


def print_report(servers: list[Server], results: list[dict], rates: list[float]) -> bool:
    print("\nstart-up (seconds from start to the first 200 on the predict route, model fetch included):")
    for s in servers:
        print(f"  {s.name:<10} {s.startup_s:6.2f} s   workers: {s.workers}")
    head = (f"{'rate':>6} {'server':<10} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8} {'errors':>6} "
            f"{'ok rps':>7} {'CPU s':>6} {'CPU us/ok':>9} {'peak RSS MB':>11} {'gen late p99':>12} {'load avg':>15}")
    print("\n" + head + "\n" + "-" * len(head))
    for r in results:
        lat, late = r["latency_ms"], r["late_ms"]
        print(f"{r['rate_rps']:>6g} {r['server']:<10} {lat['p50']:>8} {lat['p99']:>8} {lat['p99.9']:>9} {lat['max']:>8} "
              f"{r['errors']:>6} {r['achieved_rps']:>7} {r['cpu_seconds']:>6} {r['cpu_us_per_ok']:>9} {r['peak_rss_mb']:>11} "
              f"{late['p99']:>12} {r['load_average']:>15}")
        if r["error_kinds"]:
            print(f"{'':>17} errors: {r['error_kinds']}")
    print("(percentiles over the answered requests, from each one's due time; `unfinished`: no answer within\n"
          " 2 s after the window. null: a server that does no work, measured the same way: the floor this\n"
          " machine, its load and the generator allow now. `gen late p99`: how late the generator itself sent)")
    print("\nhello-api / mlflow:")
    met = True
    by = {(r["rate_rps"], r["server"]): r for r in results}
    for rate in rates:
        h, m = by.get((rate, "hello-api")), by.get((rate, "mlflow"))
        if not h or not m:
            continue
        print(f"  {rate:g} rps: p50 {ratio(h['latency_ms']['p50'], m['latency_ms']['p50'])}, "
              f"p99 {ratio(h['latency_ms']['p99'], m['latency_ms']['p99'])}, "
              f"p99.9 {ratio(h['latency_ms']['p99.9'], m['latency_ms']['p99.9'])}, "
              f"CPU per answer {ratio(h['cpu_us_per_ok'], m['cpu_us_per_ok'])}, peak RSS {ratio(h['peak_rss_mb'], m['peak_rss_mb'])}")
    print(f"  start-up {ratio(servers[0].startup_s, servers[1].startup_s)}")
    top = max(rates)
    h, m = by.get((top, "hello-api")), by.get((top, "mlflow"))
    if h and m:
        p99, mp99 = h["latency_ms"]["p99"], m["latency_ms"]["p99"]
        checks = [(f"hello-api p99 <= {GOAL_P99_MS:g} ms at {top:g} rps", p99 is not None and p99 <= GOAL_P99_MS),
                  (f"hello-api p99 <= {GOAL_RATIO:g}x MLflow's at {top:g} rps",
                   p99 is not None and mp99 is not None and p99 <= GOAL_RATIO * mp99),
                  ("hello-api: zero errors at every rate",
                   all(by[(r, "hello-api")]["errors"] == 0 for r in rates if (r, "hello-api") in by))]
        print("\ngoals:")
        for text, ok in checks:
            print(f"  {'met    ' if ok else 'NOT met'}  {text}")
            met = met and ok
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="500,1500", help="requests per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per rate and server")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of the same load before each measurement")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections of the generator")
    parser.add_argument("--image", help="a hello-api image to use instead of building pipelines/hello-api")
    parser.add_argument("--base-image", default=os.environ.get("GITOPSLAB_BASE_IMAGE", "gitopslab-base:bookworm"))
    parser.add_argument("--nice", type=int, help="run both servers and the generator at this priority (e.g. -10, "
                        "as root: ahead of a background build); default: unchanged")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    if not rates or not all(0 < r <= 20000 for r in rates) or not 0 < args.seconds <= 120:
        parser.error("--rates must be numbers in (0, 20000] and --seconds in (0, 120]")
    server_cpus, gen_cpu, pinning = cpu_plan()
    log(f"host: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, load average {load_average()}; "
        f"{pinning}; {args.connections} connections; {args.seconds:g} s measured + {args.warmup:g} s warm-up "
        f"per rate and server; priority: {'unchanged' if args.nice is None else f'nice {args.nice}'}")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="serving-bench-")))
        image = args.image or build_image(args.base_image)
        s3 = stack.enter_context(services.moto_server(tmp))
        tracking = stack.enter_context(services.mlflow_server(tmp, s3.url))
        log(f"moto at {s3.url}, MLflow at {tracking.url}; training with pipelines/hello-api/train.py")
        artifact, trained = train(tmp, tracking.url)
        services.store_models(s3.url, {"iris-bench.joblib": artifact})
        sha = hashlib.sha256(artifact).hexdigest()
        log(f"trained: run {trained['run_id']}, {trained['model_uri']} = version {trained['model_version']}, "
            f"accuracy {trained['metrics']['accuracy']:.3f}, model.joblib sha256 {sha[:12]}")
        from sklearn.datasets import load_iris

        rows = [[float(v) for v in row] for row in load_iris().data]
        hello = start_hello(stack, image, s3.url, "s3://ml-models/iris-bench.joblib", sha, server_cpus, rows,
                            args.nice)
        log(f"hello-api ({image}) answered /predict {hello.startup_s:.2f} s after docker run")
        mlflow = start_mlflow(stack, tmp, tracking.url, server_cpus, rows)
        log(f"mlflow models serve answered /invocations {mlflow.startup_s:.2f} s after its start")
        servers = [hello, mlflow]
        null = start_null(stack, server_cpus, rows)
        for server in (*servers, null):
            renice(server.root_pid, args.nice)
        results = []
        for rate in rates:
            for server in (null, *servers):
                log(f"{server.name}: {rate:g} rps for {args.seconds:g} s (load average {load_average()})")
                results.append(measure(server, rate, args.seconds, args.warmup, args.connections, gen_cpu, tmp,
                                       args.nice))
        met = print_report(servers, results, rates)
    if args.json:
        args.json.write_text(json.dumps({"pinning": pinning, "results": results, "startup_s": {
            s.name: round(s.startup_s, 3) for s in servers}}, indent=2) + "\n")
    log(f"done; load average {load_average()}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
