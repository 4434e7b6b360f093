"""Issue 28 item 3: the `deliver` and `retrain` pipelines run FOR REAL on the real Woodpecker (server and
agent built from the v3.17.0 archive) and the real engine, every step, as a push and as the cron.

The lab is the project's own: compose layer (real Gitea, registry, Woodpecker), Gitea seeding, `up`'s
delivery image step (the CI base in the lab registry) and Woodpecker wiring. The cluster side is stood in
on the lab network under the lab's own names and ports, as the edge forwarder gives them to step
containers in a lab: the real MinIO (built from its module by scripts/real-stack/build.py) answers as
minio.localhost:<minio_api port> with the project's S3 users, and an MLflow server (the .venv's MLflow
in the `python` image) as mlflow.localhost:<mlflow port>, its artifacts in that MinIO. Steps use the
images the pipeline files name, present in the engine (nothing can be pulled here).

Not covered here: Argo CD syncing the pin (the cluster tier, tests/real/test_cluster_delivery.py, shows a
pin commit reaching the cluster through the webhook), and trivy's vulnerability DB (it cannot be
fetched: the push sets SCAN_OFFLINE=1 in the scan step, as an offline lab does for every step).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gitopslab.conductor import runner as orchestrator
from gitopslab.context import Context
from gitopslab.model.config import load_config
from gitopslab.model.topology import LABEL, build
from gitopslab.render.pipelines import CI_STEPS
from gitopslab.stack import compose_layer, delivery, s3_users
from gitopslab.stack.gitea import rbac
from gitopslab.stack.gitea.seed import seed_gitea, whales_exec
from gitopslab.stack.woodpecker_wire import wire_woodpecker
from gitopslab.state import LabState
from tests.real.cluster_harness import program
from tests.real.conftest import ForgeLab
from tests.support.compose_lab import docker, free_ports, lab_settings, remove_lab, write_config
from tests.support.services import VENV_BIN

pytestmark = [pytest.mark.engine, pytest.mark.timeout(1500)]

DELIVER_STEPS = ["clone", "test", "train", "upload", "build", "digest", "scan", "update-gitops"]
RETRAIN_STEPS = ["clone", "train", "upload", "update-gitops"]
# The first run of a lab may still fill caches (the kaniko layer cache, the CI image); later ones are fast.
PIPELINE_TIMEOUT = 900
# Woodpecker v3.17.0's final pipeline states (server/model/const.go); created, pending, running and
# blocked are not over.
OVER = ("success", "failure", "killed", "canceled", "error", "skipped", "declined")


def _make_lab(root: Path) -> ForgeLab:
    """A forge lab whose MLflow and S3 API ports are free ones (the stand-ins publish them on 127.0.0.1,
    as the cluster's load balancer does in a lab, so the project's S3 user step reaches the store)."""
    import uuid

    name = f"glw{uuid.uuid4().hex[:8]}"
    settings = lab_settings(name, {})
    mlflow, minio_api, minio_console = free_ports(3, set(settings["ports"].values()))
    settings["ports"] |= {"mlflow": mlflow, "minio_api": minio_api, "minio_console": minio_console}
    config = write_config(root / "gitopslab.yaml", settings)
    cfg = load_config(config, environ={})
    ctx = Context(cfg=cfg, topo=build(cfg), state=LabState(name, root / "state"))
    return ForgeLab(name, config, root / "state", ctx)


def _wait_http(url: str, host: str, what: str, container: str, timeout: float = 180) -> None:
    deadline, last = time.monotonic() + timeout, "no answer yet"
    while time.monotonic() < deadline:
        try:
            code = httpx.get(url, headers={"Host": host}, timeout=3).status_code
            if code == 200:
                return
            last = f"HTTP {code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(1)
    logs = docker("logs", "--tail", "40", container, check=False)
    raise AssertionError(f"{what} at {url} (Host {host}) did not answer 200 within {timeout:.0f} s (last: {last}); "
                         f"`docker logs {container}`:\n{logs.stdout}{logs.stderr}")


def _stand_in(lab: ForgeLab, key: str, image: str, args: list[str], env: dict[str, str], mounts: list[str]) -> str:
    """A container under the service's lab name and port on the lab network, also on 127.0.0.1:<port>;
    the lab's label, so the lab's destroy sweeps it. Its environment travels in a 0600 file."""
    svc = lab.ctx.topo.service(key)
    name = f"{lab.name}-{key.replace('_', '-')}"
    with delivery.step_env_file(env) as env_file:
        docker("run", "-d", "--name", name, "--label", f"{LABEL}={lab.name}", "--network", lab.ctx.topo.network,
               "--network-alias", svc.hostname, "-p", f"127.0.0.1:{svc.port}:{svc.port}", "--env-file",
               str(env_file), *[f for m in mounts for f in ("-v", m)], image, *args)
    return name


def _start_minio(lab: ForgeLab) -> None:
    svc, secrets = lab.ctx.topo.service("minio_api"), lab.ctx.state.secrets()
    name = _stand_in(lab, "minio_api", "gitopslab-base:bookworm",
                     ["/usr/local/bin/minio", "server", "/tmp/data", "--address", f":{svc.port}"],
                     {"MINIO_ROOT_USER": secrets["minio_root_user"], "MINIO_ROOT_PASSWORD": secrets["minio_root_password"],
                      "MINIO_BROWSER": "off"},
                     [f"{program('minio-upstream', 'minio')}:/usr/local/bin/minio:ro"])
    _wait_http(f"http://127.0.0.1:{svc.port}/minio/health/live", svc.address, "MinIO", name)
    import boto3

    root = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{svc.port}", region_name="us-east-1",
                        aws_access_key_id=secrets["minio_root_user"], aws_secret_access_key=secrets["minio_root_password"])
    for bucket in ("mlflow", delivery.MODEL_BUCKET):  # what the store's bucket Job creates in a lab
        root.create_bucket(Bucket=bucket)
    s3_users.ensure_users(lab.ctx)  # the project's own step: the CI user the upload step logs in as


def _start_mlflow(lab: ForgeLab) -> None:
    """The lab's MLflow command (gitops/base/ml/mlflow), its artifacts proxied into the real MinIO."""
    svc, minio = lab.ctx.topo.service("mlflow"), lab.ctx.topo.service("minio_api")
    user = s3_users.USERS["mlflow"]
    site = VENV_BIN.parent / "lib" / "python3.11" / "site-packages"
    name = _stand_in(lab, "mlflow", lab.ctx.cfg.image("python"),
                     ["python3", "-m", "mlflow", "server", "--host=0.0.0.0", f"--port={svc.port}", "--workers=1",
                      "--backend-store-uri=sqlite:////tmp/mlflow.db", "--artifacts-destination=s3://mlflow"],
                     {"PYTHONPATH": "/opt/site", "MLFLOW_S3_ENDPOINT_URL": minio.url,
                      "AWS_ACCESS_KEY_ID": user.access_key, "AWS_SECRET_ACCESS_KEY": lab.ctx.state.secret(user.secret),
                      "MLFLOW_SERVER_ALLOWED_HOSTS": f"{svc.hostname}:*,127.0.0.1:*,localhost:*",
                      "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
                     [f"{site}:/opt/site:ro"])
    _wait_http(f"http://127.0.0.1:{svc.port}/health", svc.address, "MLflow", name)


@pytest.fixture(scope="module")
def lab(real_forge: list[str], real_cluster_programs: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForgeLab]:
    with deliver_lab(tmp_path_factory.mktemp("deliver")) as lab:
        yield lab


@contextlib.contextmanager
def deliver_lab(root: Path) -> Iterator[ForgeLab]:
    """`up`'s compose, seeding, delivery-image and Woodpecker steps, with MinIO and MLflow stood in;
    the lab destroyed afterwards. Also used by benchmarks/forge_tier.py."""
    from python_on_whales import DockerClient

    lab = _make_lab(root)
    try:
        lab.compose_up()
        delivery.prepare_workspace(lab.ctx)  # `seed.workspace`: the template for this lab's names and ports
        seed_gitea(lab.ctx, whales_exec(DockerClient(), f"{lab.name}-gitea"), content_root=delivery.workspace(lab.ctx))
        orchestrator.run(lab.ctx, [compose_layer.woodpecker_step()])
        _start_minio(lab)
        _start_mlflow(lab)
        _push_ci_base(lab)
        delivery.build_ci_image(lab.ctx.cfg, lab.ctx.topo)  # the engine the agent runs steps on holds it
        wire_woodpecker(lab.ctx)
        delivery.deliver_model(lab.ctx)  # `delivery.model`: up's first model, pinned in platform/gitops
        yield lab
    finally:
        remove_lab(lab.ctx)


def _push_ci_base(lab: ForgeLab) -> None:
    """`up`'s push of the CI build's base; from the host the lab registry is `localhost:<port>` (this
    machine does not resolve registry.localhost): the same registry and repository the pipeline names."""
    cfg = lab.ctx.cfg
    host_cfg = cfg.model_copy(update={"hostnames": cfg.hostnames.model_copy(update={"registry": "localhost"})})
    ref = delivery.push_ci_base(host_cfg, build(host_cfg))
    docker("rmi", ref, check=False)


def _woodpecker(lab: ForgeLab) -> httpx.Client:
    wp = lab.ctx.topo.service("woodpecker")
    return httpx.Client(base_url=f"http://127.0.0.1:{wp.port}/api", headers={
        "Host": wp.address, "Authorization": f"Bearer {lab.ctx.state.secret('woodpecker_token')}"}, timeout=20)


def _git(lab: ForgeLab) -> list[str]:
    gitea = lab.ctx.topo.service("gitea")
    auth = base64.b64encode(f"{lab.ctx.cfg.admin_user}:{lab.ctx.state.secret('gitea_admin_password')}".encode())
    return ["git", "-c", f"http.extraHeader=Authorization: Basic {auth.decode()}", "-c",
            f"http.extraHeader=Host: {gitea.address}", "-c", "user.name=lead", "-c", "user.email=lead@gitopslab.localhost"]


def _clone(lab: ForgeLab, repo: str, dest: Path) -> Path:
    gitea = lab.ctx.topo.service("gitea")
    subprocess.run([*_git(lab), "clone", "-q", f"http://127.0.0.1:{gitea.port}/{rbac.ORG}/{repo}.git", str(dest)],
                   check=True, capture_output=True, timeout=60)
    return dest


def _head(clone: Path) -> str:
    return subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _push_member_change(lab: ForgeLab, work: Path) -> str:
    """As the admin (devops: main's push whitelist), a change to hello-api main; returns its commit.
    The scan step gets SCAN_OFFLINE=1: trivy's vulnerability DB cannot be fetched on this machine."""
    _clone(lab, "hello-api", work)
    pipeline = work / ".woodpecker" / "deliver.yaml"
    doc = yaml.safe_load(pipeline.read_text())
    assert [s["name"] for s in doc["steps"]] == DELIVER_STEPS[1:]
    text = pipeline.read_text()
    scan_env = "      IMAGE_DIGEST_FILE: .digest\n    commands:\n      - sh scripts/ci/scan.sh\n"
    if "SCAN_OFFLINE" not in text:  # a second push (benchmarks/forge_tier.py) finds it there
        assert scan_env in text, text
        pipeline.write_text(text.replace(scan_env, "      IMAGE_DIGEST_FILE: .digest\n      SCAN_OFFLINE: \"1\"\n"
                                                   "    commands:\n      - sh scripts/ci/scan.sh\n"))
    with (work / "README.md").open("a") as fh:
        fh.write(f"\nA change pushed by a workshop member ({time.time_ns()}).\n")
    subprocess.run([*_git(lab), "-C", str(work), "commit", "-qam", "scan offline: no vulnerability DB here"],
                   check=True, capture_output=True)
    pushed = subprocess.run([*_git(lab), "-C", str(work), "push", "origin", "HEAD:main"], capture_output=True,
                            text=True, timeout=60)
    assert pushed.returncode == 0, pushed.stderr
    return _head(work)


def _steps(pipeline: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for w in pipeline.get("workflows") or [] for s in w.get("children") or []]


def _wait_pipeline(lab: ForgeLab, repo_id: int, match: Any, what: str) -> dict[str, Any]:
    """The first pipeline `match` accepts, once it is over; bounded, naming the step last seen running."""
    deadline, seen = time.monotonic() + PIPELINE_TIMEOUT, {}
    with _woodpecker(lab) as api:
        while time.monotonic() < deadline:
            found = [p for p in api.get(f"/repos/{repo_id}/pipelines").json() or [] if match(p)]
            if found:
                seen = api.get(f"/repos/{repo_id}/pipelines/{found[0]['number']}").json()
                if seen.get("status") in OVER:
                    return dict(seen)
            time.sleep(3)
    running = [f"{s['name']}={s['state']}" for s in _steps(seen)]
    logs = docker("logs", "--tail", "30", f"{lab.name}-woodpecker-agent", check=False)
    raise AssertionError(f"the {what} pipeline was not over within {PIPELINE_TIMEOUT} s; steps: {running or 'none yet'}; "
                         f"`docker logs {lab.name}-woodpecker-agent`:\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}")


def _step_logs(lab: ForgeLab, repo_id: int, pipeline: dict[str, Any], step: dict[str, Any]) -> str:
    """A step's log as the server stored it; the agent sends log lines in batches, so a step of a
    pipeline just over may answer empty for a moment (seen here): asked again for up to 20 s."""
    deadline, lines = time.monotonic() + 20, []
    with _woodpecker(lab) as api:
        while not lines and time.monotonic() < deadline:
            lines = api.get(f"/repos/{repo_id}/logs/{pipeline['number']}/{step['id']}").json() or []
            if not lines:
                time.sleep(1)
    return "\n".join(base64.b64decode(line.get("data") or "").decode(errors="replace") for line in lines)


def _assert_all_steps_passed(lab: ForgeLab, repo_id: int, pipeline: dict[str, Any], names: list[str]) -> None:
    steps = _steps(pipeline)
    failed = [s for s in steps if s.get("state") != "success" or s.get("exit_code") != 0]
    detail = "\n".join(f"--- {s['name']}: {s.get('state')} exit {s.get('exit_code')} {s.get('error') or ''}\n"
                       f"{_step_logs(lab, repo_id, pipeline, s)[-2500:]}" for s in failed)
    assert pipeline["status"] == "success" and not failed, f"pipeline #{pipeline['number']} {pipeline['status']}:\n{detail}"
    assert [s["name"] for s in steps] == names
    for step in steps:  # item 4: the python steps run on the CI image's packages, nothing from the index
        if step["name"] in CI_STEPS:
            assert "using the CI image's packages" in _step_logs(lab, repo_id, pipeline, step), step["name"]


def _last_commit(clone: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(clone), *args], capture_output=True, text=True, check=True).stdout

    changed = [line for line in git("show", "--format=", "-U0", "HEAD").splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return {"subject": git("log", "-1", "--format=%s").strip(), "author": git("log", "-1", "--format=%an <%ae>").strip(),
            "files": sorted(git("show", "--format=", "--name-only", "HEAD").split()), "changed": changed}


def _pin_diff(before: Path, files: list[str], values: dict[str, str]) -> tuple[list[str], list[str]]:
    """The exact (+, -) lines a pin commit of `values` makes in `files`: a key's line replaced where its
    value changes (train.py is seeded: an unchanged commit and data give the same bytes, so MODEL_SHA
    may stay), a digest line added after newTag where there was none."""
    added, removed = [], []
    for name in files:
        text = (before / name).read_text()
        for key, value in values.items():
            found = re.search(rf"^(\s*){key}: .*$", text, re.MULTILINE)
            if found is None:
                tag = re.search(r"^(\s*)newTag: .*$", text, re.MULTILINE)
                if key == "digest" and tag:
                    added.append(f'+{tag.group(1)}digest: "{value}"')
                continue
            new = f'{found.group(1)}{key}: "{value}"'
            if found.group(0) != new:
                removed.append(f"-{found.group(0)}")
                added.append(f"+{new}")
    return sorted(added), sorted(removed)


def _assert_exact_diff(pin: dict[str, Any], before: Path, values: dict[str, str]) -> None:
    added, removed = _pin_diff(before, pin["files"], values)
    assert sorted(line for line in pin["changed"] if line.startswith("+")) == added, pin["changed"]
    assert sorted(line for line in pin["changed"] if line.startswith("-")) == removed, pin["changed"]


def _object_sha(lab: ForgeLab, uri: str) -> str:
    import boto3

    secrets, svc = lab.ctx.state.secrets(), lab.ctx.topo.service("minio_api")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    root = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{svc.port}", region_name="us-east-1",
                        aws_access_key_id=secrets["minio_root_user"], aws_secret_access_key=secrets["minio_root_password"])
    return hashlib.sha256(root.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()


def _registry_digest(lab: ForgeLab, tag: str) -> str:
    registry = lab.ctx.topo.service("registry")
    answer = httpx.get(f"http://127.0.0.1:{registry.port}/v2/hello-api/manifests/{tag}", timeout=10, headers={
        "Accept": "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"})
    assert answer.status_code == 200, f"the registry has no hello-api:{tag}: {answer.status_code} {answer.text[:300]}"
    return "sha256:" + hashlib.sha256(answer.content).hexdigest()


def _mlflow_version(lab: ForgeLab) -> dict[str, Any]:
    svc = lab.ctx.topo.service("mlflow")
    answer = httpx.get(f"http://127.0.0.1:{svc.port}/api/2.0/mlflow/registered-models/alias",
                       params={"name": "iris-classifier", "alias": "production"}, headers={"Host": svc.address}, timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["model_version"])


def test_ups_first_delivery_trains_in_the_ci_image_and_pins_the_initial_model(lab: ForgeLab, tmp_path: Path) -> None:
    """`delivery.model` (run by the fixture as `up` runs it) trained and uploaded with the CI image's
    packages: no venv of its own in the workspace (before, train.sh installed one from the index)."""
    hello = delivery.workspace(lab.ctx) / "pipelines" / "hello-api"
    assert (hello / "dist" / "release.env").is_file() and not (hello / ".ci").exists()
    pin = delivery.read_pin(hello / "dist" / "release.env")
    assert pin.model_object == f"s3://{delivery.MODEL_BUCKET}/iris-initial.joblib"
    assert _object_sha(lab, pin.model_object) == pin.model_sha
    gitops = _clone(lab, "gitops", tmp_path / "gitops")
    for overlay in (*delivery.INITIAL_OVERLAYS, *delivery.INITIAL_MODEL_OVERLAYS):
        assert f'MODEL_SHA: "{pin.model_sha}"' in (gitops / overlay / "model-configmap.yaml").read_text()


def test_a_push_runs_every_deliver_step_and_pins_the_scanned_digest(lab: ForgeLab, tmp_path: Path) -> None:
    repo_id = wire_woodpecker(lab.ctx).repo_id
    before = _clone(lab, "gitops", tmp_path / "before")
    commit = _push_member_change(lab, tmp_path / "hello-api")
    pipeline = _wait_pipeline(lab, repo_id, lambda p: p["commit"] == commit and p["event"] == "push", "deliver")
    _assert_all_steps_passed(lab, repo_id, pipeline, DELIVER_STEPS)

    short = commit[:7]
    digest = _registry_digest(lab, short)  # kaniko pushed hello-api:<short sha> to the real registry
    after = _clone(lab, "gitops", tmp_path / "after")
    pin = _last_commit(after)
    model = f"s3://{delivery.MODEL_BUCKET}/iris-{short}.joblib"
    sha = _object_sha(lab, model)
    assert pin["subject"] == f"deploy hello-api:{short}@{digest}, model iris-{short}.joblib [skip ci]"
    assert pin["author"] == f"{rbac.CI_BOT} <ci@gitopslab.localhost>"
    assert pin["files"] == sorted(rbac.DEV_PINS)
    _assert_exact_diff(pin, before, {"newTag": short, "digest": digest, "MODEL_OBJECT": model, "MODEL_SHA": sha})
    assert _head(after) != _head(before)
    version = _mlflow_version(lab)  # train registered it and pointed `production` at it
    assert version["tags"] and {t["key"]: t["value"] for t in version["tags"]}.get("artifact_sha256") == sha


def test_the_retrain_cron_started_through_the_api_changes_only_the_model_pin(lab: ForgeLab, tmp_path: Path) -> None:
    repo_id = wire_woodpecker(lab.ctx).repo_id
    before = _clone(lab, "gitops", tmp_path / "before")
    with _woodpecker(lab) as api:
        (cron,) = [c for c in api.get(f"/repos/{repo_id}/cron").json() if c["name"] == "retrain"]
        started = api.post(f"/repos/{repo_id}/cron/{cron['id']}")
        assert started.status_code == 200, started.text
        number = started.json()["number"]
    pipeline = _wait_pipeline(lab, repo_id, lambda p: p["number"] == number, "retrain")
    assert pipeline["event"] == "cron"
    _assert_all_steps_passed(lab, repo_id, pipeline, RETRAIN_STEPS)

    short = pipeline["commit"][:7]
    after = _clone(lab, "gitops", tmp_path / "after")
    pin = _last_commit(after)
    model = f"s3://{delivery.MODEL_BUCKET}/iris-{short}-r{number}.joblib"
    sha = _object_sha(lab, model)
    assert pin["subject"] == f"deploy model iris-{short}-r{number}.joblib [skip ci]"
    assert pin["author"] == f"{rbac.CI_BOT} <ci@gitopslab.localhost>"
    assert pin["files"] == sorted(p for p in rbac.DEV_PINS if p.endswith("model-configmap.yaml"))
    # The new object is pinned even when its bytes equal the last one's (a running pod's object is never
    # overwritten); nothing but the model pin changes.
    _assert_exact_diff(pin, before, {"MODEL_OBJECT": model, "MODEL_SHA": sha})
    for name in pin["files"]:
        assert f'MODEL_SHA: "{sha}"' in (after / name).read_text()
    kustomization = "clusters/app-dev/kustomization.yaml"
    assert (after / kustomization).read_text() == (before / kustomization).read_text()  # the image stays
