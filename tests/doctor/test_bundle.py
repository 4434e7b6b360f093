"""`gitopslab doctor --bundle`: a support bundle an instructor can read, with no credential in it."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

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
