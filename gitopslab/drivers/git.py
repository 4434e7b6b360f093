"""git as a program, over `proc.run`. A git that gitopslab runs sees no configuration of the user's:
a `commit.gpgsign`, `url.insteadOf` or GIT_DIR would change what is committed or where it goes. Its
one-process configuration travels in the environment (GIT_CONFIG_COUNT/KEY/VALUE, git >= 2.31), so a
token in `http.extraHeader` never touches the disk, a remote URL or the command line (which is logged).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitopslab.drivers import proc
from gitopslab.errors import ToolError, redact


def isolated_env(config: Sequence[tuple[str, str]]) -> dict[str, str]:
    """This process's environment without GIT_*, without the user's and the system's git config, never
    prompting, with `config` as git config for this one process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_COUNT": str(len(config)),
    })
    for i, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


@dataclass(frozen=True)
class Git:
    """`git ARGS` in `cwd` with exactly `env` (see isolated_env); stdout, or a ToolError naming the
    command and git's last words with `secrets` redacted. The hints say what to look at for the remote."""

    cwd: Path
    env: Mapping[str, str]
    timeout: float
    secrets: Sequence[str] = ()
    timeout_hint: str = "is the remote answering?"
    failure_hint: str = "run again with --verbose to see every git command"

    def __call__(self, args: Sequence[str]) -> str:
        argv = ["git", *args]
        try:
            done = proc.run(argv, cwd=self.cwd, env=self.env, inherit_env=False, timeout=self.timeout)
        except proc.TimedOut as exc:
            raise ToolError(f"`git {args[0]}` did not finish within {self.timeout:.0f} s",
                            hint=self.timeout_hint) from exc
        if not done.ok:
            detail = redact((done.stderr or done.stdout).strip()[-600:], self.secrets)
            shown = " ".join(redact(a, self.secrets) for a in argv)
            raise ToolError(f"`{shown}` failed ({done.returncode}): {detail}", hint=self.failure_hint)
        return done.stdout
