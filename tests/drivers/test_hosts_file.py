"""The hosts-file block: marked, idempotent, removable, nothing else touched."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab.drivers import hosts_file as hosts
from gitopslab.errors import LabError
from gitopslab.model.config import load_config
from gitopslab.model.topology import build


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

    from tests.conftest import need

    # Lab names must end in .localhost; some resolvers answer every *.localhost with loopback.
    need(hosts.unresolved(["gitea.gitopslab-none.localhost"]) != [], "this resolver answers *.localhost")
    env = {**os.environ, "GITOPSLAB_HOSTNAMES__GITEA": "gitea.gitopslab-none.localhost", "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "hosts"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0
    assert "127.0.0.1 gitea.gitopslab-none.localhost" in proc.stdout
    assert "gitea.gitopslab-none.localhost" in proc.stdout.split("do not resolve")[1]
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "hosts", "--apply"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0 and "block written" in proc.stdout
    assert "127.0.0.1 gitea.gitopslab-none.localhost" in hosts_file.read_text()


def _topo(**settings: object):  # type: ignore[no-untyped-def]
    from gitopslab.model.config import LabConfig

    return build(LabConfig.model_validate(settings))


def test_a_failed_write_leaves_the_hosts_file_whole(hosts_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = hosts_file.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(hosts.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        hosts.apply(_topo())
    assert hosts_file.read_bytes() == before
    assert [p.name for p in hosts_file.parent.iterdir() if p.name.startswith(".hosts")] == []


def test_mode_is_kept_and_a_symlinked_hosts_file_stays_a_symlink(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "private" / "hosts"
    real.parent.mkdir()
    real.write_text("127.0.0.1 localhost\n")
    real.chmod(0o644)
    link = tmp_path / "hosts"
    link.symlink_to(real)
    monkeypatch.setenv("GITOPSLAB_HOSTS_FILE", str(link))
    assert hosts.apply(_topo())
    assert link.is_symlink() and "gitea.localhost" in real.read_text()
    assert real.stat().st_mode & 0o777 == 0o644


def test_crlf_files_stay_crlf_and_other_bytes_survive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "hosts"
    f.write_bytes(b"127.0.0.1 localhost\r\n# caf\xe9 (latin-1 comment)\r\n")
    monkeypatch.setenv("GITOPSLAB_HOSTS_FILE", str(f))
    assert hosts.apply(_topo())
    data = f.read_bytes()
    assert b"\xe9" in data and b"gitea.localhost" in data
    assert data.count(b"\n") == data.count(b"\r\n")
    assert hosts.remove("gitopslab")
    assert f.read_bytes() == b"127.0.0.1 localhost\r\n# caf\xe9 (latin-1 comment)\r\n"


def test_the_names_fix_names_the_full_path_for_sudo_and_the_labs_profile() -> None:
    topo = _topo(name="lab2", observability=True)
    hint = hosts.elevated_hint(hosts.hosts_apply_args(topo))
    if sys.platform != "win32":
        assert re.match(r"sudo /\S*gitopslab hosts --apply", hint), hint  # not `$(command -v ...)`: issue 23 item 3
    assert "--name lab2" in hint and "--profile observability" in hint


def test_hosts_apply_with_a_profile_writes_its_names(hosts_file: Path, tmp_path: Path) -> None:
    import os

    env = {**os.environ, "NO_COLOR": "1"}
    base = subprocess.run([sys.executable, "-m", "gitopslab", "hosts", "--json"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "hosts", "--apply", "--profile", "observability"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    written = hosts_file.read_text()
    assert "grafana.localhost" in written and "grafana.localhost" not in base.stdout


def test_hosts_apply_covers_the_profiles_the_lab_was_brought_up_with(hosts_file: Path, tmp_path: Path) -> None:
    """`up --profile observability` stores its profiles; a later `hosts --apply` without flags (as the
    names fix prints it) writes all 11 names, not the core 8."""
    import os

    from gitopslab.conductor.guard import store_settings
    from gitopslab.context import Context

    ctx = Context.from_config(load_config(None, {}, {"name": "obslab", "observability": True}))
    store_settings(ctx)
    store_settings(Context.from_config(load_config(None, {}, {"name": "obslab"})))  # a later plain `up`
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "hosts", "--apply", "--name", "obslab"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    block = hosts_file.read_text().split("# BEGIN gitopslab obslab")[1]
    names = [line.split()[1] for line in block.splitlines() if line.startswith("127.0.0.1")]
    assert len(names) == 11 and {"grafana.localhost", "prometheus.localhost", "alertmanager.localhost"} <= set(names)


def test_destroy_names_the_full_path_fix_when_the_hosts_block_cannot_be_removed(
        hosts_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything else is gone; the block stays because the OS refused the write: destroy says how to
    finish with the form sudo can run (sudo resets PATH, so a venv's gitopslab needs its full path)."""
    from gitopslab.conductor.destroy import _remove_hosts_block
    from gitopslab.context import Context

    ctx = Context.from_config(load_config(None, {}, {"name": "lab2"}))
    hosts.apply(ctx.topo)
    before = hosts_file.read_bytes()

    def refused(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(hosts.os, "replace", refused)
    said = _remove_hosts_block(ctx)
    assert said is not None and said.startswith("hosts file: block left (no permission to write")
    if sys.platform != "win32":
        assert re.search(r"remove it with: sudo /\S*gitopslab hosts --remove --name lab2$", said), said
    assert hosts_file.read_bytes() == before  # nothing half-removed


def test_doctor_names_the_hosts_file_gitopslab_hosts_file_points_at(hosts_file: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The names check's fix says which file `hosts --apply` writes: the one GITOPSLAB_HOSTS_FILE names."""
    from gitopslab.doctor import host
    from gitopslab.doctor.probe import Probe
    from gitopslab.model.config import LabConfig
    from gitopslab.state import LabState

    # Whether *.localhost resolves depends on the host's resolver (systemd-resolved answers it): say it does not.
    monkeypatch.setattr(host, "resolve_names", lambda names, limit: dict.fromkeys(names, "not found"))
    cfg = LabConfig.model_validate({"name": "lab3", "hostnames": {"gitea": "nowhere-gitea.localhost"}})
    result = host.names(Probe(cfg, build(cfg), LabState(cfg.name, root=tmp_path / "state"), 2.0))
    assert result.status == "fail", result
    assert f"(adds to {hosts_file}:" in (result.fix or "")
    assert "nowhere-gitea.localhost" in (result.fix or "")


# --- issue 23 item 16: racers and files that are not hosts files -----------------------------------

APPLY = """
import sys, time
from gitopslab.drivers import hosts_file
from gitopslab.model.config import load_config
from gitopslab.model.topology import build
topo = build(load_config(None, {}, {"name": sys.argv[1]}))
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # every racer starts at the same moment
hosts_file.apply(topo)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="12 interpreters at once: the POSIX CI runner")
def test_twelve_labs_applying_at_once_keep_all_twelve_blocks(hosts_file: Path) -> None:
    import os
    import time

    env = {**os.environ, "GITOPSLAB_HOSTS_FILE": str(hosts_file)}
    start = time.time() + 3
    racers = [subprocess.Popen([sys.executable, "-c", APPLY, f"lab{i}", str(start)], env=env,
                               stderr=subprocess.PIPE, text=True) for i in range(12)]
    for racer in racers:
        _, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err[-2000:]
    text = hosts_file.read_text()
    kept = [i for i in range(12) if f"# BEGIN gitopslab lab{i}" in text]
    assert kept == list(range(12)), f"kept the blocks of labs {kept} only"
    assert text.startswith("127.0.0.1 localhost\n")


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_a_fifo_as_the_hosts_file_is_refused_without_hanging(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "hosts"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "hosts", "--apply"], cwd=tmp_path, timeout=60,
                          capture_output=True, text=True, env={**os.environ, "GITOPSLAB_HOSTS_FILE": str(fifo)})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "is not a regular file" in proc.stderr and "GITOPSLAB_HOSTS_FILE" in proc.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="POSIX device")
def test_dev_zero_as_the_hosts_file_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITOPSLAB_HOSTS_FILE", "/dev/zero")
    with pytest.raises(LabError, match="is not a regular file"):
        hosts.apply(_topo())
    with pytest.raises(LabError, match="is not a regular file"):
        hosts.remove("gitopslab")
