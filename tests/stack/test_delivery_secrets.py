"""Issue 23.8: `up`'s first model ran with the S3 store's root login, handed to `docker run` in its argv
(every local user reads /proc/*/cmdline). Now the step containers get the CI user's login, through an
env file that is 0600 while it exists and gone when the step is done. The engine here is a stand-in
`docker` on PATH that records what it is handed; the delivery code runs as `up` runs it."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from gitopslab.context import Context
from gitopslab.errors import EngineError
from gitopslab.model.config import load_config
from gitopslab.stack import delivery

ENGINE = """#!{python}
import json, os, stat, sys
argv = sys.argv[1:]
if argv[:2] == ["image", "inspect"]:  # python-on-whales asks whether the image is there before a run
    print(json.dumps([{{"Id": "sha256:" + "0" * 64, "RepoTags": [argv[-1]]}}]))
    sys.exit(0)
seen = {{"argv": argv, "env_files": []}}
for i, arg in enumerate(argv):
    if arg == "--env-file":
        path = argv[i + 1]
        seen["env_files"].append({{"path": path, "mode": stat.S_IMODE(os.stat(path).st_mode),
                                   "text": open(path).read()}})
    if arg == "--volume" and argv[i + 1].endswith(":/workspace"):
        workspace = argv[i + 1].rsplit(":", 1)[0]
if "scripts/ci/upload.sh" in argv:
    os.makedirs(os.path.join(workspace, "dist"), exist_ok=True)
    with open(os.path.join(workspace, "dist", "release.env"), "w") as fh:
        fh.write("MODEL_OBJECT=s3://ml-models/iris-initial.joblib\\nMODEL_SHA=" + "ab" * 32 + "\\n")
with open({log!r}, "a") as fh:
    fh.write(json.dumps(seen) + "\\n")
"""


def test_the_first_model_uses_the_ci_login_through_a_private_env_file_never_argv(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "engine.jsonl"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(ENGINE.format(python=sys.executable, log=str(log)))
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(delivery, "wait_for_ml_services", lambda c: None)
    ctx = Context.from_config(load_config(None, {}, {"name": "firstmodel"}))
    ctx.state.put_secret("gitea_token", "token-minted-by-seeding")
    secrets = ctx.state.secrets()

    delivery.deliver_model(ctx)

    runs = [json.loads(line) for line in log.read_text().splitlines()]
    scripts = [next(a for a in r["argv"] if a.startswith("scripts/ci/")) for r in runs]
    assert scripts == ["scripts/ci/train.sh", "scripts/ci/upload.sh", "scripts/ci/update-gitops.sh"]
    argv = "\n".join(a for r in runs for a in r["argv"])
    for value in (secrets["minio_root_password"], secrets["s3_ci_secret_key"], "token-minted-by-seeding"):
        assert value not in argv  # nothing another local user could read in /proc/*/cmdline
    assert "--env" not in [a for r in runs for a in r["argv"]]
    files = [f for r in runs for f in r["env_files"]]
    assert len(files) == 3 and all(f["mode"] == 0o600 for f in files)
    assert all(not Path(f["path"]).exists() for f in files)  # removed after each step
    assert list((tmp_path / "tmp").iterdir()) == []
    train, upload = (dict(line.split("=", 1) for line in f["text"].splitlines()) for f in files[:2])
    assert "AWS_SECRET_ACCESS_KEY" not in train  # MLflow proxies its artifacts: training needs no S3 login
    assert (upload["AWS_ACCESS_KEY_ID"], upload["AWS_SECRET_ACCESS_KEY"]) == ("gitopslab-ci",
                                                                             secrets["s3_ci_secret_key"])
    assert secrets["minio_root_password"] not in "".join(f["text"] for f in files)  # never the root login


def test_a_variable_the_env_file_cannot_hold_is_refused_and_no_file_is_left(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(EngineError, match="NOTE"), delivery.step_env_file({"NOTE": "two\nlines"}):
        pass
    assert list(tmp_path.iterdir()) == []
    with delivery.step_env_file({"A": "1"}) as path:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "A=1\n"
    assert not path.exists()
