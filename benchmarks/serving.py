"""hello-api beside `mlflow models serve` and KServe's model server: the same trained model, the same
open-loop load (issues 26 and 27).

    .venv/bin/python benchmarks/serving.py [--rates 500,1500] [--seconds 10] [--image REF]
        [--servers hello-api,mlflow,kserve] [--generator go|python]

One self-contained run, bounded (about 4 minutes with the defaults, plus the image build when no
--image is given), everything printed:
1. a real S3 API (moto) and a real MLflow server (sqlite, artifacts proxied to S3), as tests/pipelines
   run them; the pipeline's own train step (pipelines/hello-api/train.py) trains the model, logs it and
   registers it as `iris-classifier`, alias `production`; its model.joblib goes to S3 pinned by sha256.
2. hello-api: the template's image (built here from pipelines/hello-api on the offline base image,
   or --image), one container on the host network: one uvicorn process, as the lab runs it.
   MLflow: `mlflow models serve -m models:/iris-classifier@production --env-manager local`, the
   version the lab pins (the .venv's mlflow), its default of one uvicorn worker, as
   gitops/base/ml/model-serving runs it. KServe: the storage initializer fetches the same joblib from
   S3, then the release's sklearn server (kserve 0.20.0 from PyPI) serves it with its defaults and the
   InferenceService's env, in the lab's python image (benchmarks/serving_kserve.py). Same fitted
   estimator (one train run); hello-api and KServe read the joblib the pipeline uploads, MLflow the copy
   it logged. Two null servers (Python asyncio, Go) that do no work show the floor.
3. Start-up of each: seconds from `docker run` / the process start to the first 200 on its predict
   route (/predict, /invocations, /v1/models/iris:predict), the model fetch included.
4. For each rate, each server in turn: the open-loop generator (latency counted from each request's due
   time; benchmarks/loadgen in Go by default, serving_load.py with --generator python), pinned to the
   last CPU with taskset; the servers pinned to the other CPUs. The same 150 iris rows in the same
   order, each in its server's schema ({"features": row}, {"inputs": [row]}, {"instances": [row]}).
   CPU seconds and peak RSS from /proc, summed over each server's process tree.
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
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "pipelines" / "hello-api"
sys.path.insert(0, str(REPO))

from benchmarks import serving_load, serving_procs, serving_report  # noqa: E402
from benchmarks.serving_servers import (  # noqa: E402
    Server,
    log,
    start_hello,
    start_kserve,
    start_mlflow,
    start_null,
    start_null_go,
)
from tests.support import services  # noqa: E402

SERVERS = ("hello-api", "mlflow", "kserve")


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


def measure(server: Server, rate: float, seconds: float, warmup: float, connections: int, gen_cpu: str | None,
            tmp: Path, nice: int | None, loadgen: Path | None) -> dict:
    """One rate against one server: a warm-up run, then the measured run with the server's CPU seconds and
    memory around it. loadgen: the Go generator's binary; None: the Python one (serving_load.py)."""
    bodies = tmp / f"bodies-{server.name}.json"
    bodies.write_text(json.dumps(server.bodies))

    def generator(secs: float, discard: bool = False) -> list[str]:
        if loadgen is not None:
            argv = [str(loadgen), "-url", server.url, "-bodies", str(bodies), "-rate", str(rate), "-seconds", str(secs),
                    "-connections", str(connections)] + (["-discard"] if discard else [])
        else:
            argv = [sys.executable, str(REPO / "benchmarks" / "serving_load.py"), "--url", server.url, "--bodies",
                    str(bodies), "--rate", str(rate), "--seconds", str(secs), "--connections", str(connections)]
            argv += ["--discard"] if discard else []
        argv = ["taskset", "-c", gen_cpu, *argv] if gen_cpu else argv
        return ["nice", "-n", str(nice), *argv] if nice is not None else argv

    if warmup > 0:  # its own run, so that the CPU seconds below cover the measured window only
        subprocess.run(generator(warmup, discard=True), capture_output=True, timeout=warmup + 60, check=True)
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
    if loadgen is not None:
        parsed, total = serving_load.parse_loadgen(done.stdout)
        result = serving_load.report(parsed, seconds, total, rate, seconds, connections)
    else:
        result = json.loads(done.stdout)
    cpu = after.cpu_seconds - before.cpu_seconds
    # Per 200: a saturated server answers fewer requests, so its CPU seconds alone would flatter it.
    result.update(server=server.name, load_average=load, cpu_seconds=round(cpu, 2),
                  cpu_us_per_ok=round(cpu / result["ok"] * 1e6) if result["ok"] else None,
                  peak_rss_mb=after.peak_rss_mb, max_sampled_rss_mb=max(peak[0], after.rss_mb),
                  processes=after.processes)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="500,1500", help="requests per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per rate and server")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of the same load before each measurement")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections of the generator")
    parser.add_argument("--image", help="a hello-api image to use instead of building pipelines/hello-api")
    parser.add_argument("--base-image", default=os.environ.get("GITOPSLAB_BASE_IMAGE", "gitopslab-base:bookworm"))
    parser.add_argument("--nice", type=int, help="run the servers and the generator at this priority (e.g. -10, "
                        "as root: ahead of a background build); default: unchanged")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--servers", default=",".join(SERVERS),
                        help=f"which servers to measure beside the two null ones, comma-separated: {', '.join(SERVERS)}")
    parser.add_argument("--generator", choices=("go", "python"), default="go",
                        help="go: benchmarks/loadgen (compiled, the lower floor); python: serving_load.py (asyncio)")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    if not rates or not all(0 < r <= 20000 for r in rates) or not 0 < args.seconds <= 120:
        parser.error("--rates must be numbers in (0, 20000] and --seconds in (0, 120]")
    chosen = [s.strip() for s in args.servers.split(",") if s.strip()]
    if not chosen or set(chosen) - set(SERVERS):
        parser.error(f"--servers {args.servers!r}: name one or more of {', '.join(SERVERS)}, comma-separated")
    server_cpus, gen_cpu, pinning = cpu_plan()
    log(f"host: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, load average {load_average()}; "
        f"{pinning}; {args.connections} connections; {args.seconds:g} s measured + {args.warmup:g} s warm-up "
        f"per rate and server; priority: {'unchanged' if args.nice is None else f'nice {args.nice}'}")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="serving-bench-")))
        # Built whichever generator runs: its null server is the floor without Python.
        loadgen = serving_load.build_go_generator(tmp)
        generator = ("benchmarks/loadgen (Go, compiled)" if args.generator == "go"
                     else "benchmarks/serving_load.py (Python asyncio)")
        image = (args.image or build_image(args.base_image)) if "hello-api" in chosen else ""
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
        uri = "s3://ml-models/iris-bench.joblib"
        servers = []
        if "hello-api" in chosen:
            servers.append(start_hello(stack, image, s3.url, uri, sha, server_cpus, rows, args.nice))
            log(f"hello-api ({image}) answered /predict {servers[-1].startup_s:.2f} s after docker run")
        if "mlflow" in chosen:
            servers.append(start_mlflow(stack, tmp, tracking.url, server_cpus, rows))
            log(f"mlflow models serve answered /invocations {servers[-1].startup_s:.2f} s after its start")
        if "kserve" in chosen:
            servers.append(start_kserve(stack, tmp, s3.url, uri, server_cpus, rows, args.nice))
            log(f"KServe's sklearn server answered :predict {servers[-1].startup_s:.2f} s after its storage "
                "initializer's docker run")
        nulls = [start_null(stack, server_cpus, rows), start_null_go(stack, loadgen, server_cpus, rows)]
        for server in (*servers, *nulls):
            renice(server.root_pid, args.nice)
        results = []
        for rate in rates:
            for server in (*nulls, *servers):
                log(f"{server.name}: {rate:g} rps for {args.seconds:g} s (load average {load_average()})")
                results.append(measure(server, rate, args.seconds, args.warmup, args.connections, gen_cpu, tmp,
                                       args.nice, loadgen if args.generator == "go" else None))
        lines, met = serving_report.report([(s.name, s.startup_s, s.workers) for s in servers], results, rates,
                                           generator)
        print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"pinning": pinning, "generator": generator, "results": results,
                                         "startup_s": {s.name: round(s.startup_s, 3) for s in servers}},
                                        indent=2) + "\n")
    log(f"done; load average {load_average()}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
