"""Issue 11 item 17: `config` says where each value came from (file / env / flag, else default), and the
documented GITOPSLAB_IMAGES works, including hyphenated roles from a POSIX shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab.errors import ConfigError
from gitopslab.model.config import load_config

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("GITOPSLAB_") or k == "GITOPSLAB_DATA_DIR"}
    full |= {"NO_COLOR": "1", "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=60)


def test_hyphenated_role_is_set_from_a_posix_shell(tmp_path: Path) -> None:
    # `export` in sh refuses a name with '-'; the '_' form is what a shell can set.
    script = (f"export GITOPSLAB_IMAGES__WOODPECKER_SERVER=registry.example/wp-server:v9 && "
              f"exec {sys.executable} -m gitopslab --json config")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITOPSLAB_")} | {"PYTHONPATH": str(REPO)}
    proc = subprocess.run(["sh", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert data["settings"]["images"] == {"woodpecker-server": "registry.example/wp-server:v9"}
    assert data["sources"]["images.woodpecker-server"] == "env GITOPSLAB_IMAGES__WOODPECKER_SERVER"


@pytest.mark.parametrize("value", ['{"gitea": "g.example/gitea:1", "woodpecker-agent": "w.example/agent:2"}',
                                   "gitea=g.example/gitea:1,woodpecker-agent=w.example/agent:2"])
def test_gitopslab_images_takes_json_or_role_list(value: str) -> None:
    cfg = load_config(None, {"GITOPSLAB_IMAGES": value}, {})
    assert cfg.images == {"gitea": "g.example/gitea:1", "woodpecker-agent": "w.example/agent:2"}
    assert cfg.image("woodpecker-agent") == "w.example/agent:2"


def test_gitopslab_images_bad_value_names_the_variable_and_the_forms(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(None, {"GITOPSLAB_IMAGES": "just-an-image:1"}, {})
    assert "GITOPSLAB_IMAGES" in str(exc.value.problems) and "__GITEA" in str(exc.value.problems)
    proc = _cli("config", cwd=tmp_path, env={"GITOPSLAB_IMAGES": "just-an-image:1"})
    assert proc.returncode == 2 and "GITOPSLAB_IMAGES" in proc.stderr


def test_config_says_where_each_value_came_from(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text("ports:\n  gitea: 3300\nname: fromfile\n")
    env = {"GITOPSLAB_PORTS__REGISTRY": "5999", "GITOPSLAB_NAME": "fromenv"}
    proc = _cli("config", "--gpu", "auto", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    tail = proc.stdout.split("# where each setting came from (every other one is a default):\n")[1]
    assert f"#   ports.gitea: file {tmp_path / 'gitopslab.yaml'}" in tail
    assert "#   name: env GITOPSLAB_NAME" in tail  # the file set it too; env wins and is named
    assert "#   ports.registry: env GITOPSLAB_PORTS__REGISTRY" in tail
    assert "#   gpu: flag" in tail
    doc = json.loads(_cli("--json", "config", cwd=tmp_path, env=env).stdout)["data"]
    assert doc["settings"]["name"] == "fromenv" and doc["sources"]["name"] == "env GITOPSLAB_NAME"
    assert "ports.woodpecker" not in doc["sources"]  # left at its default
