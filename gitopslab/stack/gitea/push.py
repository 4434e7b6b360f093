"""Push a folder of seed content into an empty Gitea repository over HTTP with `git`.

The token never touches the disk or a remote URL: it travels in the environment of the one `git push`
process as `http.extraHeader` (GIT_CONFIG_COUNT/KEY/VALUE, git >= 2.31). The lab name in the URL
is mapped to 127.0.0.1 by libcurl itself (`http.curloptResolve`, git >= 2.37), so the push works on
hosts where `*.localhost` does not resolve, and Gitea still sees its own host name.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from gitopslab.drivers.git import Git, isolated_env
from gitopslab.errors import ToolError

# Never seeded: local clutter and the placeholder files that keep empty folders in gitopslab's own git.
_IGNORE = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache",
                                 ".venv", ".keep")


def git_env(url: str, token: str, resolve: Mapping[str, str]) -> dict[str, str]:
    """Environment for git: auth header and name mapping as one-process config, no user config."""
    parts = urlsplit(url)
    config = [("http.extraHeader", f"Authorization: token {token}")]
    host = (parts.hostname or "").lower()
    if host in resolve:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        config.append(("http.curloptResolve", f"{host}:{port}:{resolve[host]}"))
    env = isolated_env(config)
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "gitopslab"
    return env


def push_folder(
    source: Path,
    url: str,
    *,
    token: str,
    email: str,
    resolve: Mapping[str, str],
    message: str,
    branch: str = "main",
    timeout: float = 120.0,
) -> str:
    """Commit everything under `source` as the first commit of `branch` and push it; returns its sha."""
    if not source.is_dir():
        raise ToolError(f"seed content folder {source} does not exist",
                        hint="reinstall gitopslab (the wheel carries gitops/ and pipelines/)")
    if shutil.which("git") is None:
        raise ToolError("git is not installed; it is needed to push the seed repositories",
                        hint="install git (e.g. `sudo apt-get install git`, `brew install git`) and run again")
    env = git_env(url, token, resolve)
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = email
    with tempfile.TemporaryDirectory(prefix="gitopslab-seed-") as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(source, work, ignore=_IGNORE)
        run = Git(work, env, timeout, secrets=[token], timeout_hint="is Gitea answering? `gitopslab status`",
                  failure_hint="check that Gitea is up and the token in state is valid; run `gitopslab up` again")
        run(["init", "-q", "-b", branch])
        run(["add", "-A"])
        run(["commit", "-q", "--allow-empty", "-m", message])
        sha = run(["rev-parse", "HEAD"]).strip()
        run(["push", "-q", url, f"HEAD:refs/heads/{branch}"])
        return sha
