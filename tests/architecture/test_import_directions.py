"""The architecture, enforced from the imports (docs/ARCHITECTURE.md draws it): data flows one way,

    face (cli, commands) -> conductor -> stack / doctor -> drivers, clients -> render -> model

and each kind of thing has one place: subprocess only in the drivers, printing only in the face, state
files read only through the state module. A new import that breaks a direction fails here, naming the
module, the import and the rule."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gitopslab"

# Folder (or top-level module) -> the parts of gitopslab it may import. Everything not listed is forbidden.
BASICS = {"errors", "files", "resources", "wait", "__version__", "logsetup", "invocation", "terminal_text"}
ALLOWED: dict[str, set[str]] = {
    "model": {"errors", "resources"},
    "render": {"model", "errors", "resources"},
    "state": {"errors", "files"},
    "context": {"model", "state", "drivers"},
    "clients": {"model", "errors", "logsetup"},
    "drivers": {"model", "render", "state", *BASICS},
    "lint": {"model", "drivers", *BASICS},
    "offline": {"model", "render", "context", "drivers", *BASICS},
    "stack": {"model", "render", "state", "context", "drivers", "clients", "offline", *BASICS},
    "doctor": {"model", "render", "state", "context", "drivers", "clients", *BASICS},
    "conductor": {"model", "render", "state", "context", "drivers", "clients", "offline", "stack", "doctor",
                  *BASICS},
}


@dataclass(frozen=True)
class Import:
    module: str      # gitopslab.stack.cluster_layer
    target: str      # gitopslab.drivers.k3d, subprocess, ...
    line: int


def _part(dotted: str) -> str:
    """gitopslab.stack.x -> stack; gitopslab.state -> state; gitopslab -> gitopslab."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imports() -> list[Import]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [Import(module, a.name, node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "gitopslab" else [node.module]
                found += [Import(module, n, node.lineno) for n in names]
    return found


IMPORTS = _imports()


def _where(imp: Import) -> str:
    return f"{imp.module} (line {imp.line}) imports {imp.target}"


def test_no_module_outside_the_drivers_runs_programs_itself() -> None:
    bad = [_where(i) for i in IMPORTS if i.target.split(".")[0] == "subprocess"
           and not i.module.startswith("gitopslab.drivers.")]
    assert not bad, "every program runs through gitopslab/drivers (proc.run):\n" + "\n".join(bad)


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_each_part_imports_only_what_lies_below_it(part: str) -> None:
    allowed = ALLOWED[part] | {part}
    bad = [_where(i) for i in IMPORTS if _part(i.module) == part and i.target.startswith("gitopslab.")
           and _part(i.target) not in allowed]
    assert not bad, f"{part} may import only {sorted(allowed)}:\n" + "\n".join(bad)


def test_the_stack_knows_nothing_of_the_face_or_the_conductor() -> None:
    """No stack module imports argparse or rich (drawing is the face's) or uses print."""
    bad = [_where(i) for i in IMPORTS if i.module.startswith("gitopslab.stack.")
           and i.target.split(".")[0] in {"argparse", "rich"}]
    for path in sorted((PACKAGE / "stack").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and node.id == "print":  # called, or handed on as a callback
                bad.append(f"{path.relative_to(PACKAGE.parent)} (line {node.lineno}) uses print")
    assert not bad, "the stack reports events (ctx.report); the face draws them:\n" + "\n".join(bad)


def test_only_the_face_parses_arguments() -> None:
    bad = [_where(i) for i in IMPORTS if i.target == "argparse"
           and not (i.module.startswith("gitopslab.commands.") or i.module == "gitopslab.cli")]
    assert not bad, "argparse belongs to cli.py and commands/:\n" + "\n".join(bad)


def test_nothing_below_the_face_imports_it() -> None:
    bad = [_where(i) for i in IMPORTS if _part(i.target) in {"commands", "cli"}
           and _part(i.module) not in {"commands", "cli", "__main__"}]
    assert not bad, "commands/ and cli.py sit on top; nothing imports them:\n" + "\n".join(bad)


# LabState's paths: a module that uses one reads or writes the state dir behind the state module's back.
STATE_PATHS = ("secrets_file", "journal_file", "settings_file", "lock_file")


def test_the_doctor_reads_state_only_through_the_state_module() -> None:
    bad = []
    for path in sorted((PACKAGE / "doctor").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr in STATE_PATHS
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "state"):
                bad.append(f"{path.relative_to(PACKAGE.parent)} (line {node.lineno}) uses state.{node.attr}")
            if isinstance(node, ast.Constant) and node.value == "secrets.json":
                bad.append(f"{path.relative_to(PACKAGE.parent)} (line {node.lineno}) names secrets.json")
    assert not bad, "the doctor asks LabState (gitopslab/state.py), never its files:\n" + "\n".join(bad)


def test_every_module_belongs_to_a_part_the_rules_know() -> None:
    """A new folder must take its place in ALLOWED (and in docs/ARCHITECTURE.md) before it is used."""
    face = {"cli", "commands", "__main__", "__init__", "ui"}
    parts = {_part(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)) for p in PACKAGE.rglob("*.py")}
    unknown = parts - set(ALLOWED) - BASICS - face
    assert not unknown, f"parts without a rule: {sorted(unknown)}"


TESTS = PACKAGE.parent / "tests"
# Folders of the test tree that mirror no gitopslab part: content at the repository's top (gitops/,
# pipelines/, compose/, scripts/, docs/, benchmarks/), the fakes, shared helpers, the real-stack tiers,
# these rules.
OUTSIDE_THE_PACKAGE = {"gitops", "pipelines", "compose", "scripts", "docs", "benchmarks", "fakes", "support", "real",
                       "architecture", "fixtures", "basics"}


def test_the_test_tree_mirrors_the_source_tree() -> None:
    parts = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))}
    strays = folders - parts - OUTSIDE_THE_PACKAGE
    assert not strays, f"tests/ folders that mirror no gitopslab/ folder: {sorted(strays)}"
    for name in OUTSIDE_THE_PACKAGE - {"basics", "fakes", "support", "real", "architecture", "fixtures"}:
        assert (TESTS.parent / name).is_dir() or not (TESTS / name).is_dir(), f"tests/{name} mirrors no top folder"


def test_every_fake_lives_in_tests_fakes() -> None:
    bad = []
    for path in sorted(TESTS.rglob("*.py")):
        if path.relative_to(TESTS).parts[0] == "fakes":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.startswith(("Fake", "StandIn", "Stub")):
                bad.append(f"{path.relative_to(TESTS.parent)}: class {node.name}")
    assert not bad, "fakes belong in tests/fakes:\n" + "\n".join(bad)
