"""Compose, Apps, GitOps and Pipeline HTTP checks against real local servers in healthy, failing,
slow and black-holed states. Every request goes to 127.0.0.1 with the lab name in the Host header."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from gitopslab.doctor import apps, compose, gitops, pipeline

GITEA_OK = {("GET", "/api/healthz"): (200, {"status": "pass"}),
            ("GET", "/api/v1/version"): (200, {"version": "1.26.4"})}


def test_gitea_healthy_and_the_host_header_carries_the_lab_name(serve, make_probe):
    s = serve(GITEA_OK)
    p = make_probe(ports={"gitea": s.port})
    assert compose.gitea(p).status == "ok"
    res = compose.gitea_api(p)
    assert res.status == "ok" and "1.26.4" in res.detail
    assert s.seen[0]["headers"]["Host"] == f"gitea.localhost:{s.port}"


def test_gitea_failing_health_names_the_answer_and_the_logs_command(serve, make_probe):
    s = serve({("GET", "/api/healthz"): (424, {"status": "fail", "checks": {"database:ping": "fail"}}),
               ("GET", "/api/v1/version"): (200, "<html>not gitea</html>")})
    p = make_probe(ports={"gitea": s.port})
    res = compose.gitea(p)
    assert res.status == "fail" and "424" in res.detail and res.fix == "gitopslab logs gitea"
    assert compose.gitea_api(p).status == "fail"


def test_slow_but_within_the_timeout_is_ok(serve, make_probe):
    s = serve({("GET", "/healthz"): (204, b"")}, delay=0.8)
    p = make_probe(timeout=2.0, ports={"woodpecker": s.port})
    assert compose.woodpecker(p).status == "ok"


def test_black_hole_fails_within_the_timeout_naming_the_hang(black_hole, make_probe):
    h = black_hole()
    p = make_probe(timeout=1.0, ports={"woodpecker": h.port})
    t0 = time.monotonic()
    res = compose.woodpecker(p)
    assert time.monotonic() - t0 < 1.0 + 1.0
    assert res.status == "fail" and "did not answer within 1 s" in res.detail and "gitopslab logs" in res.fix


def test_nothing_listening_is_connection_refused_with_up_as_fix(make_probe):
    from tests.fakes.doctor_standins import free_port

    p = make_probe(ports={"woodpecker": free_port()})
    res = compose.woodpecker(p)
    assert res.status == "fail" and "connection refused" in res.detail and "gitopslab up" in res.fix


def test_registry_real_debian_registry(tmp_path, make_probe):
    import shutil
    import subprocess

    from tests.fakes.doctor_standins import free_port
    from tests.support.need import need

    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    need(shutil.os.path.exists(binary), "Debian docker-registry is not installed (apt-get install docker-registry)")
    port = free_port()
    conf = tmp_path / "registry.yml"
    conf.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path / 'data'}\n"
                    f"http:\n  addr: 127.0.0.1:{port}\nlog:\n  level: error\n")
    proc = subprocess.Popen([binary, "serve", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        p = make_probe(ports={"registry": port})
        deadline = time.monotonic() + 10
        res = compose.registry(p)
        while res.status != "ok" and time.monotonic() < deadline:
            time.sleep(0.2)
            res = compose.registry(p)
        assert res.status == "ok" and "registry/2.0" in res.detail
    finally:
        proc.terminate()
        proc.wait(10)


def test_registry_impostor_without_the_api_header_fails(serve, make_probe):
    s = serve({("GET", "/v2/"): (200, {})})
    res = compose.registry(make_probe(ports={"registry": s.port}))
    assert res.status == "fail" and "is it a registry" in res.detail


def test_hello_api_health_and_a_real_predict(serve, make_probe):
    def predict(req):
        body = json.loads(req["body"])
        if len(body.get("features", [])) != 4:
            return 422, {"detail": "expected 4 features"}
        return 200, {"class": "setosa", "probabilities": [0.97, 0.02, 0.01]}

    s = serve({("GET", "/health"): (200, {"status": "ok"}), ("POST", "/predict"): predict})
    p = make_probe(ports={"hello_api": s.port})
    assert apps._health(p.topo.service("hello_api"))(p).status == "ok"
    res = apps.predict(p)
    assert res.status == "ok" and "setosa" in res.detail
    assert s.seen[-1]["headers"]["Host"] == f"demo.localhost:{s.port}"


def test_predict_refused_names_the_reason_and_kubectl(serve, make_probe):
    s = serve({("POST", "/predict"): (503, {"detail": "model not loaded: sha256 mismatch"})})
    res = apps.predict(make_probe(ports={"hello_api": s.port}))
    assert res.status == "fail" and "sha256 mismatch" in res.detail and "-n app-dev" in res.fix


def test_minio_and_dashboard_health_paths(serve, make_probe):
    s = serve({("GET", "/minio/health/live"): (200, b"")})
    d = serve({("GET", "/"): (500, "boom")})
    p = make_probe(ports={"minio_api": s.port, "dashboard": d.port})
    assert apps._health(p.topo.service("minio_api"))(p).status == "ok"
    res = apps._health(p.topo.service("dashboard"))(p)
    assert res.status == "fail" and "HTTP 500" in res.detail and "-n platform" in res.fix


@pytest.mark.timeout(120)
def test_mlflow_real_server(tmp_path, make_probe):
    import shutil
    import sys
    from pathlib import Path

    from tests.fakes.doctor_standins import free_port
    from tests.support.services import stop_group

    mlflow = shutil.which("mlflow") or str(Path(sys.executable).parent / "mlflow")
    port = free_port()
    proc = subprocess.Popen([mlflow, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                             "--backend-store-uri", f"sqlite:///{tmp_path / 'db.sqlite'}",
                             "--default-artifact-root", str(tmp_path / "artifacts")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
                            # Its own process group, and no job runner: MLflow 3 forks seven huey
                            # consumers that outlived a terminated server (and its 20 s wait on a
                            # loaded machine); the doctor check needs only the HTTP server.
                            start_new_session=True,
                            env={**os.environ, "MLFLOW_SERVER_ALLOWED_HOSTS": "*",
                                 "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    try:
        p = make_probe(ports={"mlflow": port})
        check = apps._health(p.topo.service("mlflow"))
        first = check(p)
        assert first.status == "fail"  # still starting: refused, said so
        deadline = time.monotonic() + 60
        res = first
        while res.status != "ok" and time.monotonic() < deadline:
            time.sleep(0.5)
            res = check(p)
        assert res.status == "ok", res.detail
    finally:
        stop_group(proc, 30)


def test_argocd_reachable_and_repo_connection(serve, make_probe):
    def session(req):
        ok = json.loads(req["body"]) == {"username": "admin", "password": "s3cret"}
        return (200, {"token": "tkn"}) if ok else (401, {"error": "invalid"})

    def repos(req):
        assert req["headers"]["Authorization"] == "Bearer tkn"
        return 200, {"items": [{"repo": "http://gitea.localhost:3000/platform/gitops.git",
                                "connectionState": {"status": "Failed",
                                                    "message": "dial tcp: lookup gitea.localhost: no such host"}}]}

    s = serve({("GET", "/healthz"): (200, "ok"), ("POST", "/api/v1/session"): session,
               ("GET", "/api/v1/repositories"): repos})
    p = make_probe(ports={"argocd": s.port})
    p.state.dir.mkdir(parents=True, exist_ok=True)
    p.state.secrets_file.write_text(json.dumps({"argocd_admin_password": "s3cret"}))
    assert gitops.argocd(p).status == "ok"
    res = gitops.repo(p)
    assert res.status == "fail" and "no such host" in res.detail


def test_repo_check_skips_without_a_password(make_probe):
    res = gitops.repo(make_probe())
    assert res.status == "skip" and "admin password" in res.detail


def _woodpecker(serve, swagger, latest):
    paths = set(swagger["paths"])

    def guarded(route_path, answer):
        def handler(req):
            # Every path the check uses exists in Woodpecker's API (under /api) with a Bearer token.
            assert route_path in paths, route_path
            assert req["headers"]["Authorization"] == "Bearer wp-token"
            return answer
        return handler

    return serve({
        ("GET", "/api/repos/lookup/platform/hello-api"): guarded("/repos/lookup/{repo_full_name}", (200, {"id": 7})),
        ("GET", "/api/repos/7/pipelines/latest"): guarded("/repos/{repo_id}/pipelines/{pipeline_number}", latest),
    })


def _pipeline_probe(make_probe, port):
    p = make_probe(ports={"woodpecker": port})
    p.state.dir.mkdir(parents=True, exist_ok=True)
    p.state.secrets_file.write_text(json.dumps({"woodpecker_token": "wp-token"}))
    return p


def test_pipeline_names_the_failing_step(serve, make_probe, contracts_dir):
    swagger = json.loads((contracts_dir / "woodpecker-swagger.json").read_text())
    failed = {"number": 12, "status": "failure", "event": "push", "commit": "abcdef123456",
              "workflows": [{"name": "ci", "state": "failure", "children": [
                  {"name": "test", "state": "success"},
                  {"name": "scan", "state": "failure", "exit_code": 1, "error": ""}]}]}
    s = _woodpecker(serve, swagger, (200, failed))
    res = pipeline.hello_api(_pipeline_probe(make_probe, s.port))
    assert res.status == "fail" and "step scan failure, exit 1" in res.detail and "#12" in res.detail
    assert "/repos/7/pipeline/12" in res.fix


def test_pipeline_success_and_none_yet(serve, make_probe, contracts_dir):
    swagger = json.loads((contracts_dir / "woodpecker-swagger.json").read_text())
    s = _woodpecker(serve, swagger, (200, {"number": 3, "status": "success", "workflows": []}))
    assert pipeline.hello_api(_pipeline_probe(make_probe, s.port)).status == "ok"
    s2 = _woodpecker(serve, swagger, (404, {"message": "not found"}))
    assert pipeline.hello_api(_pipeline_probe(make_probe, s2.port)).status == "warn"


def test_pipeline_skips_without_a_token(make_probe):
    res = pipeline.hello_api(make_probe())
    assert res.status == "skip" and "woodpecker_token" in res.detail
