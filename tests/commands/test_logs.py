"""Issue 11 item 17: `gitopslab logs <cluster service>` shows the service's logs through kubectl with the
lab's kubeconfig. A recorded kubectl on PATH answers as the real one does (its version, and `logs`
lines with --prefix) and keeps the arguments it was called with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECORDED = ("[pod/argocd-server-6d9f7c9b8-x2kqp/argocd-server] time=\"2026-12-01T10:40:02Z\" level=info "
            "msg=\"argocd-server v3.5.1 serving on port 8080\"\n")


def _recorded_kubectl(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "logs.txt").write_text(RECORDED)
    version = json.dumps({"clientVersion": {"gitVersion": "v1.35.5"}})
    (bin_dir / "kubectl").write_text(
        "#!/bin/sh\n"
        f"case \"$*\" in *'version --client'*) echo '{version}'; exit 0;; esac\n"
        f"echo \"$@\" >> {tmp_path / 'argv.txt'}\n"
        f"case \"$*\" in *' logs '*) exec /bin/cat {tmp_path / 'logs.txt'};; esac\n"
        "echo 'error: unknown command' >&2; exit 1\n")
    (bin_dir / "kubectl").chmod(0o755)
    return bin_dir


def _gl(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITOPSLAB_")}
    env |= {"PATH": f"{_recorded_kubectl(tmp_path)}:/usr/bin:/bin", "PYTHONPATH": str(REPO), "NO_COLOR": "1",
            "GITOPSLAB_STATE_DIR": str(tmp_path / "state"), "GITOPSLAB_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "gitopslab", "logs", "--name", "logslab", *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)


def test_cluster_service_logs_come_from_kubectl_with_the_labs_kubeconfig(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "state" / "logslab" / "kubeconfig"
    kubeconfig.parent.mkdir(parents=True)
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    (tmp_path / "state" / "logslab" / "secrets.json").write_text("{}")
    proc = _gl(tmp_path, "argocd", "--tail", "50")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == RECORDED
    argv = (tmp_path / "argv.txt").read_text().split()
    assert argv[:4] == ["--kubeconfig", str(kubeconfig), "--context", "k3d-logslab"]
    assert argv[4:] == ["logs", "-n", "argocd", "svc/argocd-server", "--all-containers", "--prefix", "--tail=50"]
    _gl(tmp_path, "hello-api")
    assert "logs -n app-dev svc/hello-api" in (tmp_path / "argv.txt").read_text().splitlines()[-1]


def test_a_lab_without_a_cluster_says_so(tmp_path: Path) -> None:
    proc = _gl(tmp_path, "mlflow")
    assert proc.returncode == 1
    assert "has no cluster yet" in proc.stderr and "gitopslab up" in proc.stderr


def test_an_unknown_service_lists_compose_and_cluster_names(tmp_path: Path) -> None:
    proc = _gl(tmp_path, "nope")
    assert proc.returncode == 2
    assert "no lab service 'nope'" in proc.stderr and "gitea" in proc.stderr and "argocd" in proc.stderr


def test_follow_streams_kubectls_own_output(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "state" / "logslab" / "kubeconfig"
    kubeconfig.parent.mkdir(parents=True)
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    (tmp_path / "state" / "logslab" / "secrets.json").write_text("{}")
    proc = _gl(tmp_path, "argocd", "-f")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == RECORDED
    assert (tmp_path / "argv.txt").read_text().split()[-1] == "--follow"
