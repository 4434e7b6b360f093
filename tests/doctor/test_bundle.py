"""`gitopslab doctor --bundle`: a support bundle an instructor can read, with no credential in it."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from gitopslab.model.topology import LABEL
from gitopslab.state import LabState


def _members(path: Path) -> dict[str, str]:
    with tarfile.open(path) as tar:
        return {m.name.removeprefix("gitopslab-support/"): tar.extractfile(m).read().decode()  # type: ignore[union-attr]
                for m in tar.getmembers()}


@pytest.mark.engine
def test_bundle_holds_what_helps_and_no_secret_value(engine: str, busybox_image: str, unique_name: str,
                                                     tmp_path: Path) -> None:
    root = tmp_path / "state"
    state = LabState(unique_name, root)
    secrets = state.secrets()
    state.put_secret("gitea_token", "tok-" + "9" * 36)
    state.mark_done("compose.core")
    (state.dir / "logs").mkdir()
    (state.dir / "logs" / "up-1.log").write_text(f"GET /api/v1/user password={secrets['gitea_admin_password']}\n"
                                                 f"token {state.secret('gitea_token')}\n")
    # A container of this lab that prints a credential: its log is collected, the value is not.
    name = f"{unique_name}-gitea"
    subprocess.run([engine, "run", "--name", name, "--label", f"{LABEL}={unique_name}", busybox_image, "sh", "-c",
                    f"echo starting with {secrets['minio_root_password']}"], check=True, capture_output=True)
    try:
        dest = tmp_path / "support.tgz"
        env = {"GITOPSLAB_STATE_DIR": str(root), "PATH": "/usr/local/bin:/usr/bin:/bin", "NO_COLOR": "1"}
        done = subprocess.run([sys.executable, "-m", "gitopslab", "doctor", "--name", unique_name, "--only", "Host",
                               "--json", "--bundle", str(dest)], capture_output=True, text=True, env=env,
                              timeout=120, cwd=tmp_path)
        assert done.returncode in (0, 1), done.stderr
        json.loads(done.stdout)  # stdout stays one JSON document
        members = _members(dest)
    finally:
        subprocess.run([engine, "rm", "-f", name], capture_output=True)
    assert {"doctor.json", "journal.json", "settings.json", "versions.json", "logs/up-1.log",
            f"compose/{name}.log", "MISSING.txt"} <= set(members)
    assert "compose.core" in members["journal.json"]
    assert "starting with ***" in members[f"compose/{name}.log"]
    assert "no kubeconfig" in members["MISSING.txt"]
    every = "\n".join(members.values())
    for value in state.secrets().values():
        if len(value) >= 4 and value != "gitopslab-minio":  # the S3 user name is not a secret
            assert value not in every


def test_a_member_still_holding_a_secret_stops_the_bundle(tmp_path: Path) -> None:
    from gitopslab.doctor import bundle
    from gitopslab.errors import LabError

    dest = tmp_path / "b.tgz"
    with pytest.raises(LabError, match="still held a credential"):
        bundle.write(dest, {"x.txt": "a s3cr3t-value here"}, ["s3cr3t-value"])
    assert not dest.exists()


def test_the_workshop_password_is_cut_even_where_no_secrets_file_holds_it(tmp_path: Path) -> None:
    """Before the first `up` (or on a lab that kept its own passwords) the workshop password is only in
    the configuration: the settings member must not carry it in clear."""
    from gitopslab.context import Context
    from gitopslab.doctor import bundle
    from gitopslab.drivers import proc
    from gitopslab.model.config import load_config

    config = tmp_path / "gitopslab.yaml"
    config.write_text("name: wsp\ncredentials:\n  workshop_password: Room-42-Pass-Word\n")
    ctx = Context.from_config(load_config(config, {}, {}))
    assert not ctx.state.secrets_file.exists()

    def no_engine(argv: list[str], **_: object) -> proc.Completed:
        return proc.Completed(tuple(argv), 1, "", "no engine here")

    members = bundle.collect(ctx, {"checks": []}, run=no_engine)
    assert "Room-42-Pass-Word" not in "\n".join(members.values())
    assert json.loads(members["settings.json"])["config"]["credentials"]["workshop_password"] == "***"


def _no_engine(argv: list[str], **_: object) -> Any:
    from gitopslab.drivers import proc

    return proc.Completed(tuple(argv), 1, "", "no engine here")


def _lab_behind_a_proxy(tmp_path: Path) -> Any:
    """A lab whose proxies carry logins of the shapes that leaked (issue 23.11): scheme-less, socks5,
    a password holding "@"; the stored settings keep an older proxy than the configuration."""
    from gitopslab.context import Context
    from gitopslab.model.config import load_config

    config = tmp_path / "gitopslab.yaml"
    config.write_text("name: prx\nproxy:\n  http_proxy: ada:Sch3me-less@proxy.corp:3128\n"
                      "  https_proxy: socks5h://ada:p@ss-S0cks@proxy.corp:1080\n")
    ctx = Context.from_config(load_config(config, {}, {}))
    ctx.state.store_settings({"lab": {"proxy": {"http_proxy": "http://bob:Old-P@ssw0rd@old.corp:8080"}}})
    (ctx.state.dir / "logs").mkdir()
    (ctx.state.dir / "logs" / "up-1.log").write_text(
        "run: k3d cluster create -e HTTPS_PROXY=socks5h://ada:p@ss-S0cks@proxy.corp:1080@server:0\n"
        "env HTTP_PROXY=ada:Sch3me-less@proxy.corp:3128\nproxy answered 407 for p@ss-S0cks\n")
    return ctx


PROXY_PASSWORDS = ("Sch3me-less", "p@ss-S0cks", "ss-S0cks", "Old-P@ssw0rd")


def test_proxy_logins_of_every_shape_are_cut_from_settings_and_logs(tmp_path: Path) -> None:
    from gitopslab.doctor import bundle

    ctx = _lab_behind_a_proxy(tmp_path)
    members = bundle.collect(ctx, {"checks": []}, run=_no_engine)
    every = "\n".join(members.values())
    assert [p for p in PROXY_PASSWORDS if p in every] == []
    settings = json.loads(members["settings.json"])
    assert settings["config"]["proxy"]["http_proxy"] == "***@proxy.corp:3128"
    assert settings["config"]["proxy"]["https_proxy"] == "socks5h://***@proxy.corp:1080"
    assert settings["stored"]["lab"]["proxy"]["http_proxy"] == "http://***@old.corp:8080"
    dest = tmp_path / "out" / "support.tgz"
    bundle.write(dest, members, bundle.secret_values(ctx), state_dir=ctx.state.dir)  # the last check agrees
    assert "logs/up-1.log" in _members(dest)


def test_the_bundle_is_private_and_never_written_through_a_planted_link(tmp_path: Path) -> None:
    from gitopslab.doctor import bundle

    victim = tmp_path / "victim"
    victim.write_text("root's file\n")
    out = tmp_path / "shared"
    out.mkdir()
    (out / ".support.tgz.tmp").symlink_to(victim)  # the temp name the old code always used
    (out / "support.tgz").symlink_to(victim)
    bundle.write(out / "support.tgz", {"doctor.json": "{}\n"}, [])
    assert victim.read_text() == "root's file\n"
    dest = out / "support.tgz"
    assert not dest.is_symlink() and stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert _members(dest) == {"doctor.json": "{}\n"}
    assert sorted(p.name for p in out.iterdir()) == [".support.tgz.tmp", "support.tgz"]  # no temp file left


def test_a_folder_or_a_file_of_the_state_dir_as_destination_is_refused(tmp_path: Path) -> None:
    from gitopslab.doctor import bundle
    from gitopslab.errors import LabError

    state = LabState("lab", tmp_path / "state")
    secrets = state.secrets()
    with pytest.raises(LabError) as err:
        bundle.write(tmp_path, {"doctor.json": "{}\n"}, [])
    assert f"{tmp_path} is a folder" in err.value.message and "gitopslab-support.tgz" in (err.value.hint or "")
    for dest in (state.secrets_file, state.dir / "logs" / "x.tgz", state.dir.parent / "other-lab.tgz"):
        with pytest.raises(LabError, match="inside gitopslab's state folder"):
            bundle.write(dest, {"doctor.json": "{}\n"}, [], state_dir=state.dir)
    assert json.loads(state.secrets_file.read_text()) == secrets
    assert sorted(p.name for p in state.dir.iterdir()) == [".state.lock", "secrets.json"]


def test_a_folder_named_like_a_log_is_noted_not_a_traceback(tmp_path: Path) -> None:
    from gitopslab.doctor import bundle

    ctx = _lab_behind_a_proxy(tmp_path)
    (ctx.state.dir / "logs" / "up-2.log").mkdir()
    members = bundle.collect(ctx, {"checks": []}, run=_no_engine)
    assert "logs/up-2.log: Is a directory" in members["MISSING.txt"]
