"""`docker build` (or podman's) with every build argument's value in the environment, not in argv.

The CLI reads `--build-arg NAME` without a value from its own environment (docker/cli opts.ValidateEnv,
buildx, buildah alike) and sends it to the engine in the build request. So a proxy login or a
mirror's login never reaches the argv that every local user can read in /proc/*/cmdline, nor the log
of the commands gitopslab runs. HTTP(S)_PROXY and NO_PROXY are build arguments a Dockerfile need not
declare, kept out of the image's history (the engine's built-in proxy arguments).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gitopslab.drivers import proc

# pip installing hello-api's requirements on a slow venue network; the bound says when to give up.
BUILD_TIMEOUT = 1800.0


def build_argv(cli: str, context: Path, tag: str, arg_names: list[str], network: str | None) -> list[str]:
    """The command line: names only, the values travel in the environment (`build`)."""
    argv = [cli, "build", "--tag", tag]
    for name in arg_names:
        argv += ["--build-arg", name]
    if network:
        argv += ["--network", network]
    return [*argv, str(context)]


def build(cli: str, context: Path, tag: str, args: Mapping[str, str], *, network: str | None = None,
          timeout: float = BUILD_TIMEOUT) -> proc.Completed:
    """Build `context` as `tag`; each of `args` a build argument whose value the CLI takes from its
    environment. The caller reads the result (a non-zero exit is returned, with the CLI's words)."""
    return proc.run(build_argv(cli, context, tag, sorted(args), network), env=dict(args), timeout=timeout)
