"""What INSTALLATION.md and `--help` promise a new user is what the CLI does (issue 23 item 6): the
command the docs say lists every image does list every image the lab pulls; `version` lists every pin;
`tools --help` says what `tools install` checks against, as INSTALLATION does; `destroy --yes` prints
the state dir the uninstall says to delete; `up --yes` installs a missing k3d although another check
fails, and reports the rest."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab.context import Context
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
from gitopslab.model.versions import IMAGES, TOOLS
from gitopslab.offline.needs import lab_needs
from gitopslab.state import LabState

REPO = Path(__file__).resolve().parents[2]
INSTALLATION = (REPO / "docs" / "INSTALLATION.md").read_text(encoding="utf-8")


def gl(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=full, stdin=subprocess.DEVNULL)


def _flat(text: str) -> str:
    return " ".join(text.split())  # a doc's sentence may break across lines


def test_the_command_installation_says_lists_every_image_lists_every_image(tmp_path: Path) -> None:
    said = re.findall(r"`gitopslab ([a-z ]+?)` lists every image", _flat(INSTALLATION))
    assert said, "INSTALLATION.md no longer names a command that lists every image"
    cfg = load_config(None, environ={}, flags={})
    pulled = lab_needs(Context(cfg=cfg, topo=build(cfg), state=LabState(cfg.name))).images
    for command in said:
        proc = gl(*command.split(), "--json", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        missing = [image for image in pulled if image not in proc.stdout]
        assert not missing, f"`gitopslab {command}` lacks images the lab pulls: {missing}"


def test_version_lists_every_pin(tmp_path: Path) -> None:
    data = json.loads(gl("version", "--json", cwd=tmp_path).stdout)["data"]
    assert data["images"] == IMAGES  # every image role, as versions.py pins it
    assert data["tools"] == {name: pin.version for name, pin in TOOLS.items()}
    lines = gl("version", cwd=tmp_path).stdout.splitlines()
    for role, ref in IMAGES.items():
        assert any(line.split() == [role, ref] for line in lines), (role, ref)


def test_tools_help_says_what_install_checks_against_as_installation_does(tmp_path: Path) -> None:
    help_text = _flat(gl("tools", "--help", cwd=tmp_path).stdout)
    assert "sha256 pinned" in help_text and "sha256 pinned" in _flat(INSTALLATION)
    assert "published beside" not in help_text  # it never trusts a checksum served beside the file


def test_destroy_prints_the_state_dir_the_uninstall_says_to_delete(engine: str, tmp_path: Path,
                                                                  unique_name: str) -> None:
    assert "delete the state dir it prints" in _flat(INSTALLATION)
    bindir = tmp_path / "bin"  # docker without k3d: the cluster part is 'not checked', quickly
    bindir.mkdir()
    for tool in ("docker", "git"):
        found = shutil.which(tool)
        if found:
            (bindir / tool).symlink_to(found)
    proc = gl("destroy", "--yes", "--name", unique_name, cwd=tmp_path, PATH=str(bindir))
    assert proc.returncode == 0, proc.stderr
    assert str(LabState(unique_name).dir) in proc.stdout


def test_up_yes_installs_k3d_although_another_check_fails(tmp_path: Path, unique_name: str,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from gitopslab.cli import main
    from gitopslab.doctor import preflight
    from gitopslab.doctor.result import fail, ok
    from gitopslab.drivers import tools

    assert "`up --yes` installs them without asking even when other checks fail too" in _flat(INSTALLATION)
    monkeypatch.setenv("GITOPSLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no k3d anywhere but where `tools install` puts it

    def host_now(ctx, timeout=None):  # noqa: ANN001, ANN202  the host as preflight sees it
        k3d = tools.find("k3d")
        return [fail("Host", "memory", "2.0 GiB free, the lab needs 7.3 GiB", "close other programs"),
                ok("Host", "k3d", "k3d 5.9.0") if k3d.ok else fail("Host", "k3d", "k3d is not installed")]

    def download(name: str, *args: object, **kwargs: object) -> None:  # the pinned release stands in
        tools.bin_dir().mkdir(parents=True, exist_ok=True)
        program = tools.bin_dir() / name
        program.write_text("#!/bin/sh\necho 'k3d version v5.9.0'\necho 'k3s version v1.35.5-k3s1 (default)'\n")
        program.chmod(0o755)

    monkeypatch.setattr(preflight, "run_preflight", host_now)
    monkeypatch.setattr(tools, "install", download)
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal: plain `up` asks nothing
    assert main(["up", "--name", unique_name]) == 1  # no terminal to ask: nothing installed
    assert "k3d is not installed" in capsys.readouterr().err and not (tools.bin_dir() / "k3d").exists()
    assert main(["up", "--yes", "--name", unique_name]) == 1
    err = capsys.readouterr().err
    assert "2.0 GiB free" in err and "k3d is not installed" not in err  # installed; the rest reported
    assert tools.find("k3d").ok
