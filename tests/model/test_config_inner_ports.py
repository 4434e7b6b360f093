"""A host port that the service's own container already listens on (Woodpecker's gRPC 9000, the registry's
debug 5001) would make that container fail at start: configuration refuses it, naming the field, the
cause and a port that works; the compose file uses the very port the check guards."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gitopslab.model.config import FIXED_INNER_PORTS, WOODPECKER_GRPC_PORT, LabConfig
from tests.model.test_config import run_cli

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "compose" / "compose.yaml"


@pytest.mark.parametrize(("setting", "expected"), [
    ("ports:\n  woodpecker: 9000\n",
     "ports.woodpecker: 9000 is Woodpecker's gRPC port inside its container (the agents connect to it); "
     "choose another port, e.g. 8000"),
    ("ports:\n  registry: 5001\n", "ports.registry: 5001 is the registry's debug listener"),
])
def test_a_port_the_container_already_uses_is_refused(tmp_path: Path, setting: str, expected: str) -> None:
    (tmp_path / "gitopslab.yaml").write_text(setting)
    proc = run_cli("config", "validate", cwd=tmp_path, env={"PYTHONPATH": str(REPO)})  # this checkout's code
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr and "Traceback" not in proc.stderr


def test_the_same_ports_are_fine_for_other_services() -> None:
    cfg = LabConfig(ports={"woodpecker": 8100, "minio_api": WOODPECKER_GRPC_PORT, "registry": 5003})
    assert cfg.ports.minio_api == 9000


def test_compose_listens_for_agents_on_the_guarded_port() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    server_env = services["woodpecker-server"]["environment"]
    agent_env = services["woodpecker-agent"]["environment"]
    assert server_env["WOODPECKER_GRPC_ADDR"] == f":{WOODPECKER_GRPC_PORT}"
    assert agent_env["WOODPECKER_SERVER"].endswith(f":{WOODPECKER_GRPC_PORT}")
    assert set(FIXED_INNER_PORTS) <= set(LabConfig().ports.model_dump())
