"""The command line: parse, call a command module, render its result. No logic lives here.

Each verb is a module in `gitopslab.commands` exposing `HELP`, `add_arguments(parser)` and
`run(args) -> int`. Heavy libraries (pydantic, rich, httpx, python-on-whales) are imported inside
`run`, and only the verb on the command line has its module imported and its options added (the
verb list needs no module), so `gitopslab --help` answers fast (benchmarks/cli_startup.py).

Exit codes: 0 ok; 1 a failure was found (doctor, lint, a broken step); 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from gitopslab import __version__

# `typing` costs a tenth of `gitopslab --help`; mypy reads these names, the interpreter never does
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

    from _typeshed import SupportsWrite

    from gitopslab.errors import LabError

# verb -> one-line help. Order is the order of `gitopslab --help`.
VERBS: dict[str, str] = {
    "up": "bring the whole lab up (or resume it); idempotent",
    "down": "stop the lab and keep its data",
    "destroy": "remove everything of this lab (containers, volumes, network, cluster)",
    "status": "what runs, and how healthy it is",
    "doctor": "check the host and every link of the lab; name what is broken and its fix",
    "urls": "the URL of every service",
    "open": "the landing page: every URL, its user, a copy-password button, live status",
    "creds": "print the lab's credentials",
    "logs": "show a service's logs",
    "render": "write every generated artifact to a folder, without secrets",
    "lint": "prove the tenancy rules of an Argo CD GitOps repo",
    "kubeconfig": "print the export line for the lab's kubeconfig",
    "tools": "list or install k3d, kubectl and the Compose plugin",
    "hosts": "show, add or remove the hosts-file block for the lab's names",
    "config": "show the effective configuration or its JSON schema",
    "load": "send a bounded load to hello-api's /predict and report latency",
    "alerts": "list the alerts the lab's Alertmanager delivered",
    "bundle": "save or load every image and file the lab pulls, for a room without a network",
    "mirror": "run pull-through registry mirrors for a room (on the instructor's machine)",
    "version": "print versions of gitopslab and of what it pins",
}

EXIT_CODES = "exit codes: 0 ok, 1 a failure was found, 2 usage or configuration error"


class _Width:
    """argparse's formatters without their `import shutil` (bz2, lzma, fnmatch: only for the width)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            try:
                width = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(sys.stdout.fileno()).columns
            except (ValueError, OSError, AttributeError):
                width = 80
            width -= 2
        super().__init__(prog, indent_increment, max_help_position, width)  # type: ignore[call-arg]


class _Formatter(_Width, argparse.HelpFormatter):
    pass


class _RawFormatter(_Width, argparse.RawDescriptionHelpFormatter):
    pass


class _Parser(argparse.ArgumentParser):
    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # argparse drops a write error; a closed pipe must reach main (exit 141, as the README says)
        if message:
            (file or sys.stderr).write(message)

    def error(self, message: str) -> NoReturn:  # argparse would exit 2 with usage; keep that, add a hint
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n  fix: run `{self.prog} --help`\n")
        raise SystemExit(2)


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--config", metavar="FILE", default=default,
                        help="settings file (default: ./gitopslab.yaml, or $GITOPSLAB_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="show debug output and tracebacks")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="print data as a versioned JSON document where the verb has data")


def verb_in(argv: Sequence[str]) -> str | None:
    """The verb on a command line: its first word that is neither an option nor --config's value."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--config":
            skip = True
        elif not word.startswith("-"):
            return word if word in VERBS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with argv, only the verb it names gets its module imported and its options added
    (the others stay bare: `gitopslab --help` lists them from VERBS). Without argv, every verb."""
    parser = _Parser(
        prog="gitopslab",
        description="A GitOps + MLOps internal developer platform on your laptop, with one command.",
        epilog=EXIT_CODES + ". Docs: docs/INSTALLATION.md, docs/CONFIGURATION.md, docs/LIFECYCLE.md",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"gitopslab {__version__}")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=_Parser)
    wanted = set(VERBS) if argv is None else {verb_in(argv)}
    for verb, help_text in VERBS.items():
        if verb not in wanted:
            sub.add_parser(verb, help=help_text, formatter_class=_Formatter)
            continue
        module = importlib.import_module(f"gitopslab.commands.{verb}")
        p = sub.add_parser(verb, help=help_text, description=getattr(module, "DESCRIPTION", help_text),
                           epilog=EXIT_CODES, formatter_class=_RawFormatter)
        _global_options(p, suppress=True)  # global options are accepted after the verb too
        module.add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _tolerant_streams()
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
        sys.stdout.flush()
    except BrokenPipeError:  # --help or --version into a pipe whose reader is gone
        return _closed_pipe()
    except SystemExit:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            return _closed_pipe()
        raise
    if not args.verb:
        parser.print_help()
        return 2
    from gitopslab import logsetup

    logsetup.configure(args.verbose)
    module = importlib.import_module(f"gitopslab.commands.{args.verb}")
    from gitopslab.errors import LabError

    try:
        code = int(module.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at exit
        return code
    except LabError as exc:
        _report(exc, args.verbose)
        if args.json:
            _json_error(exc)
        return exc.exit_code
    except BrokenPipeError:
        return _closed_pipe()
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted: nothing is lost; run the same command again to resume\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug of ours: a short redacted message, the traceback with -v
        bug = _as_bug(exc, args.verb)
        _report(bug, args.verbose, trace=exc)
        if args.json:
            _json_error(bug, kind=type(exc).__name__)
        return bug.exit_code


def _tolerant_streams() -> None:
    """A console that cannot show a character (Windows' cp1252 has no ✓ or ●) gets a `?`, not a
    traceback: the report matters more than its symbols."""
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "strict") == "strict":
            with contextlib.suppress(ValueError, OSError):  # a detached or closed stream stays as it is
                reconfigure(errors="replace")


def _json_error(exc: Exception, kind: str | None = None) -> None:
    """With --json, a failure is a JSON document too, so a script reads `ok` instead of parsing stderr."""
    import json

    from gitopslab.logsetup import redacted_text

    doc = {"schema": "gitopslab/error", "version": 1, "ok": False,
           "error": {"kind": kind or type(exc).__name__, "message": redacted_text(getattr(exc, "message", str(exc))),
                     "hint": getattr(exc, "hint", None), "exit_code": getattr(exc, "exit_code", 1)}}
    try:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        _closed_pipe()


def _closed_pipe() -> int:
    """The reader went away (`gitopslab config schema | head -1`): stop quietly, as `cat` would.
    stdout goes to devnull so the interpreter's final flush does not raise again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141  # 128 + SIGPIPE, what a shell reports for a tool the signal ended


# EX_SOFTWARE (sysexits.h): an internal error, told apart from a lab problem's exit codes.
BUG_EXIT = 70


def _as_bug(exc: Exception, verb: str) -> LabError:
    """An exception no step turned into a LabError is a bug: said like any error (message and fix), its
    text redacted as the logs are, exit 70."""
    from gitopslab.errors import LabError
    from gitopslab.logsetup import redacted_text

    text = redacted_text(str(exc)).strip().splitlines()
    bug = LabError(f"gitopslab {verb} stopped on an unexpected {type(exc).__name__}" + (f": {text[0][:300]}" if text else ""),
                   hint="this is a bug in gitopslab, not in your set-up; what was done is kept and the same command "
                        f"resumes it. `gitopslab {verb} -v` shows where it happened; report it with the file "
                        "`gitopslab doctor --bundle FILE.tgz` writes")
    bug.exit_code = BUG_EXIT
    return bug


def _report(exc: Exception, verbose: bool, trace: BaseException | None = None) -> None:
    """The error and its fix; with -v first the traceback (of `trace`, else of `exc`), redacted."""
    from rich.text import Text

    from gitopslab import logsetup
    from gitopslab.ui import error_console

    console = error_console()
    if verbose:
        sys.stderr.write(logsetup.redacted_traceback(trace or exc))
    from gitopslab.invocation import spell

    # Fixes that run as printed: `gitopslab <verb>` becomes this gitopslab's full path where that
    # name on PATH is not this program (after ./start.sh the venv is not on PATH).
    message = spell(getattr(exc, "message", str(exc)), VERBS)
    console.print(Text.assemble(("error:", "bold red"), f" {message}"))  # Text: brackets are not markup
    hint = getattr(exc, "hint", None)
    if hint:
        console.print(Text.assemble("  ", ("fix:", "bold"), f" {spell(hint, VERBS)}"))


def entry() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
