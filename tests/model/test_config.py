"""Configuration: defaults, file < env < flags, and every kind of bad input as exit 2 naming the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab.errors import ConfigError
from gitopslab.model.config import load_config


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {**os.environ, **(env or {}), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=60)


def test_defaults_serve_without_a_file() -> None:
    cfg = load_config(None, {}, {})
    assert cfg.name == "gitopslab"
    assert cfg.ports.gitea == 3000 and cfg.ports.registry == 5002
    assert cfg.hostnames.gitea == "gitea.localhost"
    assert cfg.profiles == ["core"]


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    f = tmp_path / "gitopslab.yaml"
    f.write_text("name: filelab\nports:\n  gitea: 3100\n  woodpecker: 8100\nengine: docker\n")
    cfg = load_config(f, {}, {})
    assert (cfg.name, cfg.ports.gitea, cfg.ports.woodpecker, cfg.engine) == ("filelab", 3100, 8100, "docker")
    env = {"GITOPSLAB_PORTS__GITEA": "3200", "GITOPSLAB_ENGINE": "podman"}
    cfg = load_config(f, env, {})
    assert (cfg.ports.gitea, cfg.ports.woodpecker, cfg.engine) == (3200, 8100, "podman")
    cfg = load_config(f, env, {"engine": "docker", "name": "flaglab"})
    assert (cfg.name, cfg.engine, cfg.ports.gitea) == ("flaglab", "docker", 3200)


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    f = tmp_path / "gitopslab.yaml"
    f.write_text("engine: dockr\nports:\n  gitea: 99999\n  woodpeker: 8000\ngpu: maybe\n")
    with pytest.raises(ConfigError) as err:
        load_config(f, {}, {})
    problems = err.value.problems
    assert len(problems) == 4, problems
    text = "\n".join(problems)
    assert "engine: " in text and "'dockr'" in text and "'docker'" in text
    assert "ports.gitea: " in text and "99999" in text and "65535" in text
    assert "ports.woodpeker: unknown setting (did you mean 'woodpecker'?)" in text
    assert "gpu: " in text and "'auto'" in text


def test_two_services_on_one_port_rejected() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, {"GITOPSLAB_PORTS__MLFLOW": "3000"}, {})
    assert "ports.mlflow and ports.gitea are both 3000" in str(err.value)


def test_unknown_image_role_and_bad_hostname() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, {}, {"images": {"gittea": "x:1"}, "hostnames": {"gitea": "bad_name!"}})
    text = str(err.value)
    assert "did you mean 'gitea'?" in text
    assert "hostnames.gitea" in text and "DNS name" in text


def test_profile_flags() -> None:
    from gitopslab.model.config import apply_profile

    flags: dict[str, object] = {}
    apply_profile(flags, "gpu")
    apply_profile(flags, "observability")
    cfg = load_config(None, {}, flags)
    assert cfg.profiles == ["core", "gpu", "observability"]
    apply_profile(flags, "multicluster")
    assert load_config(None, {}, flags).profiles == ["core", "gpu", "observability", "multicluster"]
    with pytest.raises(ConfigError, match="choose core, gpu, observability, multicluster or kserve"):
        apply_profile({}, "gpus")


def test_kserve_with_multicluster_is_refused_naming_both_and_the_choice(tmp_path: Path) -> None:
    from gitopslab.model.config import apply_profile

    flags: dict[str, object] = {}
    apply_profile(flags, "kserve")
    apply_profile(flags, "multicluster")
    with pytest.raises(ConfigError, match="kserve and multicluster profiles cannot be combined") as err:
        load_config(None, {}, flags)
    assert "--profile kserve or --profile multicluster" in str(err.value)
    settings = tmp_path / "gitopslab.yaml"
    settings.write_text("kserve: true\nmulticluster: true\n")
    with pytest.raises(ConfigError, match="cannot be combined"):
        load_config(settings, {}, {})


@pytest.mark.parametrize(
    "content, expected",
    [
        ("ports: [1, 2]\n", "ports: Input should be a valid dictionary"),
        ("name: Bad Name\n", "name: String should match pattern"),
        ("just a string\n", "the top level must be a mapping"),
        ("ports:\n  gitea: [\n", "not valid YAML at line"),
        ("network:\n  subnet: 10.0.0.0/30\n", "network.subnet: must be an IPv4 network of /26 or larger"),
    ],
)
def test_bad_file_exits_2_naming_the_field(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "gitopslab.yaml").write_text(content)
    proc = run_cli("config", "validate", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr


def test_env_bad_value_exits_2(tmp_path: Path) -> None:
    proc = run_cli("config", "validate", cwd=tmp_path, env={"GITOPSLAB_PORTS__REGISTRY": "abc"})
    assert proc.returncode == 2
    assert "ports.registry: Input should be a valid integer" in proc.stderr


def test_valid_file_and_schema(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text("name: lab2\nnetwork:\n  subnet: 172.29.9.0/24\n")
    proc = run_cli("config", "validate", cwd=tmp_path)
    assert proc.returncode == 0 and "gitopslab.yaml" in proc.stdout
    proc = run_cli("--json", "config", cwd=tmp_path)
    import json

    doc = json.loads(proc.stdout)
    assert doc["schema"] == "gitopslab/config" and doc["data"]["settings"]["name"] == "lab2"
    schema = json.loads(run_cli("config", "schema", cwd=tmp_path).stdout)
    import jsonschema

    jsonschema.validate({"name": "x1", "ports": {"gitea": 3001}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"portz": {}}, schema)


def test_host_proxy_is_the_default_and_file_wins(tmp_path: Path) -> None:
    env = {"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "localhost"}
    cfg = load_config(None, env, {})
    assert cfg.proxy.https_proxy == "http://proxy.corp:3128" and cfg.proxy.no_proxy == "localhost"
    assert cfg.proxy.as_env()["HTTPS_PROXY"] == "http://proxy.corp:3128"
    f = tmp_path / "gitopslab.yaml"
    f.write_text("proxy:\n  https_proxy: http://other:8080\n")
    assert load_config(f, env, {}).proxy.https_proxy == "http://other:8080"
