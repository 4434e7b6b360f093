"""The hosts-file block: marked, idempotent, removable, nothing else touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab import hosts
from gitopslab.config import load_config
from gitopslab.topology import build


@pytest.fixture
def hosts_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    f = tmp_path / "hosts"
    f.write_text("127.0.0.1 localhost\n::1 localhost ip6-localhost\n10.0.0.5 nas.home")
    monkeypatch.setenv("GITOPSLAB_HOSTS_FILE", str(f))
    return f


def test_apply_is_idempotent_and_remove_restores(hosts_file: Path) -> None:
    original = hosts_file.read_text()
    topo = build(load_config(None, {}, {}))
    assert hosts.apply(topo) is True
    text = hosts_file.read_text()
    assert text.startswith(original + "\n")
    assert "# BEGIN gitopslab gitopslab" in text and "127.0.0.1 gitea.localhost" in text
    assert hosts.apply(topo) is False
    assert hosts_file.read_text() == text
    assert hosts.remove("gitopslab") is True
    assert hosts_file.read_text() == original + "\n"
    assert hosts.remove("gitopslab") is False


def test_two_labs_keep_their_own_blocks(hosts_file: Path) -> None:
    a = build(load_config(None, {}, {}))
    b = build(load_config(None, {}, {"name": "second", "hostnames": {"gitea": "git.second.localhost"}}))
    hosts.apply(a)
    hosts.apply(b)
    hosts.remove("gitopslab")
    text = hosts_file.read_text()
    assert "git.second.localhost" in text and "# BEGIN gitopslab gitopslab" not in text


def test_unfinished_block_is_refused_untouched(hosts_file: Path) -> None:
    hosts_file.write_text("# BEGIN gitopslab gitopslab\n127.0.0.1 gitea.localhost\n")
    from gitopslab.errors import LabError

    with pytest.raises(LabError, match="without its"):
        hosts.apply(build(load_config(None, {}, {})))
    assert hosts_file.read_text() == "# BEGIN gitopslab gitopslab\n127.0.0.1 gitea.localhost\n"


def test_resolution_both_cases(hosts_file: Path) -> None:
    # `localhost` resolves everywhere; a made-up *.localhost name does not on these machines (seen),
    # and may on others (systemd-resolved): the check must say which names fail, whatever the host does.
    missing = hosts.unresolved(["localhost", "gitopslab-surely-missing.invalid"])
    assert missing == ["gitopslab-surely-missing.invalid"]


def test_cli_show_names_unresolved(hosts_file: Path, tmp_path: Path) -> None:
    import os

    env = {**os.environ, "GITOPSLAB_HOSTNAMES__GITEA": "gitea.gitopslab-none.invalid", "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "hosts"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0
    assert "127.0.0.1 gitea.gitopslab-none.invalid" in proc.stdout
    assert "gitea.gitopslab-none.invalid" in proc.stdout.split("do not resolve")[1]
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "hosts", "--apply"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0 and "block written" in proc.stdout
    assert "127.0.0.1 gitea.gitopslab-none.invalid" in hosts_file.read_text()
