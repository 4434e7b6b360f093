"""The verbs that look at a lab see the profiles it was brought up with, and `creds` names the users
the lab really has (issue 23, item 5): `up --profile observability` once, then plain `gitopslab urls`,
`logs`, `doctor` and `creds` know Grafana."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from gitopslab.model.config import LabConfig
from gitopslab.stack import app_secrets
from gitopslab.state import LabState

REPO = Path(__file__).resolve().parents[2]


def gl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO), "PATH": str(cwd)}  # no engine, no tools
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=env, stdin=subprocess.DEVNULL)


def _observability_lab(name: str) -> LabState:
    state = LabState(name)
    state.store_settings({"lab": {"profiles": ["core", "observability"], "gpu": "off"}})  # what `up` stores
    state.put_secret("grafana_admin_password", "grafana-pw")
    return state


def test_urls_lists_grafana_of_a_lab_brought_up_with_observability(tmp_path: Path) -> None:
    _observability_lab("obslab")
    rows = json.loads(gl("urls", "--json", "--name", "obslab", cwd=tmp_path).stdout)["data"]
    assert any(r["service"] == "Grafana" for r in rows)
    plain = json.loads(gl("urls", "--json", "--name", "corelab", cwd=tmp_path).stdout)["data"]
    assert not any(r["service"] == "Grafana" for r in plain)  # a lab without it: no Grafana


def test_logs_knows_grafana_of_such_a_lab(tmp_path: Path) -> None:
    _observability_lab("obslab")
    proc = gl("logs", "grafana", "--name", "obslab", cwd=tmp_path)
    # past "no lab service 'grafana'": it is a service of this lab, whose cluster is not there yet
    assert "no lab service" not in proc.stderr and "has no cluster yet" in proc.stderr


def test_doctor_checks_the_observability_services_of_such_a_lab(tmp_path: Path) -> None:
    _observability_lab("obslab")
    doc = json.loads(gl("doctor", "--json", "--name", "obslab", "--only", "apps", "--timeout", "0.5",
                        cwd=tmp_path).stdout)
    assert "grafana" in json.dumps(doc).lower()


def test_creds_grafana_user_is_the_one_up_writes_into_grafanas_secret(tmp_path: Path) -> None:
    _observability_lab("obslab")
    doc = json.loads(gl("creds", "--json", "--name", "obslab", cwd=tmp_path).stdout)["data"]
    shown = next(r for r in doc["credentials"] if r["service"] == "Grafana")
    secret = next(o for o in app_secrets.objects(LabConfig(observability=True), None)
                  if o["kind"] == "Secret" and o["metadata"]["name"] == "grafana-admin")
    data = secret.get("stringData") or {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert shown["user"] == data["admin-user"] and shown["secret"] == "grafana-pw"


def test_creds_prints_the_dashboards_token_command(tmp_path: Path) -> None:
    state = _observability_lab("obslab")
    proc = gl("creds", "--name", "obslab", cwd=tmp_path)
    line = next(x for x in proc.stdout.splitlines() if "Headlamp" in x)
    assert f"kubectl --kubeconfig {state.kubeconfig} --context k3d-obslab -n platform create token headlamp" in line


def test_urls_and_doctor_see_the_production_cluster_of_a_multicluster_lab(tmp_path: Path) -> None:
    """Issue 25: `up --profile multicluster` once, then plain urls and doctor know the second cluster (status
    too: it needs an engine, tests/conductor/test_multicluster_verbs.py)."""
    LabState("mclab").store_settings({"lab": {"profiles": ["core", "multicluster"], "gpu": "off"}})
    rows = json.loads(gl("urls", "--json", "--name", "mclab", cwd=tmp_path).stdout)["data"]
    assert any(r["url"] == "http://demo-prd.localhost:8089" for r in rows)
    doctor = json.loads(gl("doctor", "--json", "--only", "cluster-prd", "--name", "mclab", cwd=tmp_path).stdout)
    assert "Cluster-prd" in doctor["data"]["groups"]
    plain = json.loads(gl("urls", "--json", "--name", "corelab", cwd=tmp_path).stdout)["data"]
    assert not any("demo-prd" in r["url"] for r in plain)
