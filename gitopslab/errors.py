"""The one error tree of gitopslab. The CLI catches `LabError` at its boundary, prints the message
and the hint, and exits with the error's `exit_code`; a traceback is shown only with `--verbose`.

    LabError                     exit 1: something is broken; message + hint say what and how to fix
    ├── UsageError               exit 2: bad flags or arguments
    ├── ConfigError              exit 2: gitopslab.yaml / GITOPSLAB_* / flags are invalid (one line per problem)
    ├── LockedError              exit 2: another `up`/`down` holds this lab's lock (names the PID)
    ├── IncompatibleChange       exit 2: the stored settings differ in a way that needs a recreate
    ├── NotBuiltError            exit 2: the verb exists but its capability is not built yet
    ├── PreflightError           exit 1: prerequisites missing (every problem listed at once)
    ├── EngineError              exit 1: docker/podman/compose failed (translated DockerException)
    ├── ToolError                exit 1: k3d/kubectl/git failed, or a tool download failed
    ├── HTTPServiceError         exit 1: a lab service answered badly or not at all
    └── WaitTimeout              exit 1: a bounded wait ran out (what, last seen, next command)

Foreign errors are translated at the boundary (`raise EngineError(...) from exc`) with secrets
stripped by `redact()`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


class LabError(Exception):
    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  fix: {self.hint}"


class UsageError(LabError):
    exit_code = 2


class ConfigError(LabError):
    exit_code = 2

    def __init__(self, problems: Iterable[str], source: str = "configuration") -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {source}:\n{lines}")


class LockedError(LabError):
    exit_code = 2


class IncompatibleChange(LabError):
    exit_code = 2


class NotBuiltError(LabError):
    exit_code = 2


class PreflightError(LabError):
    exit_code = 1


class EngineError(LabError):
    pass


class ToolError(LabError):
    pass


class HTTPServiceError(LabError):
    pass


class WaitTimeout(LabError):
    pass


_SECRET_PATTERNS = [
    re.compile(r"(?i)(password|passwd|secret|token|access_token)([=: ]+)([^\s&\"']+)"),
    re.compile(r"(?i)(authorization: *(?:token|bearer|basic) +)(\S+)"),
    re.compile(r"(https?://[^:/\s]+:)([^@\s]+)(@)"),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secret values and anything shaped like a credential from `text`."""
    for value in secrets:
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}***", text)
    text = _SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)}***{m.group(3)}", text)
    return text
