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


# What a credential looks like in text, for `redact`. Each keeps the name and cuts the value.
_KEY = r"[\w.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)[\w-]*"
_SECRET_PATTERNS = [
    # name=value, name: value, "name": "value" (JSON), NAME=value (env: AWS_SECRET_ACCESS_KEY=...)
    re.compile(rf"(?i)(?P<name>[\"']?{_KEY}[\"']?)(?P<sep>\s*[=:]\s*|[ ]+)"
               r"(?:(?P<q>[\"'])(?P<quoted>(?:\\.|(?!(?P=q)).)*)(?P=q)|(?P<bare>[^\s&\"',;}]+))"),
    # an HTTP Authorization header, any scheme
    re.compile(r"(?i)(?P<name>(?:proxy-)?authorization: *(?:token|bearer|basic|digest) +)(?P<bare>\S+)"),
    # cookies: the whole header value, to the end of the line
    re.compile(r"(?i)(?P<name>\b(?:set-)?cookie: *)(?P<bare>[^\r\n]+)"),
    # scheme://user:password@host, any scheme (socks5, git+ssh); the password runs to the LAST "@" of
    # the address, so one holding an unescaped "@" or "/" is cut whole
    re.compile(r"(?i)(?P<name>\b[a-z][a-z0-9+.-]*://[^\s:/@\"']+:)(?P<bare>[^\s\"']*)(?=@[^\s@\"']+)"),
    # user:password@host:port without a scheme (a proxy written the short way); not image@sha256:...
    re.compile(r"(?i)(?P<name>(?<![\w/.:@-])[\w.%+-]+:)(?!//)(?P<bare>[^\s\"']+)"
               r"(?=@(?!sha\d+:)[\w.-]+:\d+(?![\w@]))"),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secret values and anything shaped like a credential from `text`: the one
    redaction of gitopslab (logs, errors, the support bundle all go through it)."""
    for value in sorted({v for v in secrets if v and len(v) >= 4}, key=len, reverse=True):
        text = text.replace(value, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(_cut, text)
    return text


def _cut(match: re.Match[str]) -> str:
    groups = match.groupdict()
    if groups.get("quoted") is not None:
        return f"{groups['name']}{groups['sep']}{groups['q']}***{groups['q']}"
    return f"{groups['name']}{groups.get('sep') or ''}***"
