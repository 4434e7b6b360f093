"""`gitopslab lint`: prove the tenancy of an Argo CD GitOps repo.

    lint(path) -> LintReport     build, validate, check; findings name file, object, rule and fix
    shipped_gitops_dir()         the gitops/ tree this gitopslab seeds into Gitea
    footprint.memory_limits()    summed memory limits of a profile (see footprint.py)
    footprint.profiles_footprint(cfg)  the same for a lab's profiles (`gitopslab render` prints it)

Modules: loader (read + kustomize builds), schemas (strict validation), apps (Applications and
ApplicationSets as Argo CD sees them), globs (Argo CD's matching), tenancy and workloads (the rules),
policy (the tenancy model), rules (ids, fixes, report).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitopslab.lint.loader import LintInputError, Tree, load
from gitopslab.lint.rules import RULES, Finding, LintReport

__all__ = ["RULES", "Finding", "LintInputError", "LintReport", "lint", "lint_tree", "shipped_gitops_dir"]


def shipped_gitops_dir() -> Path:
    """The gitops/ tree shipped with gitopslab (checkout or wheel)."""
    from gitopslab.errors import LabError
    from gitopslab.resources import content_path

    try:
        return content_path("gitops")
    except LabError as exc:
        raise LintInputError("the shipped gitops/ tree was not found in this installation",
                             hint="give the path explicitly: gitopslab lint PATH") from exc


def lint(path: Path | str | None = None, *, schemas: str | None = None, allowed_repos: list[str] | None = None,
         k8s_version: str | None = None) -> LintReport:
    """Lint a GitOps repo folder (kustomize trees and/or plain YAML) or a single YAML file."""
    target = Path(path) if path is not None else shipped_gitops_dir()
    return lint_tree(load(target), str(target), schemas=schemas, allowed_repos=allowed_repos,
                     k8s_version=k8s_version)


def lint_tree(tree: Tree, label: str, *, schemas: str | None = None, allowed_repos: list[str] | None = None,
              k8s_version: str | None = None) -> LintReport:
    from gitopslab.lint import policy
    from gitopslab.lint.apps import applications, deployed_objects, effective_namespace, projects
    from gitopslab.lint.schemas import Validator, default_kubernetes_version, find_schema_dir
    from gitopslab.lint.tenancy import check_app, check_project
    from gitopslab.lint.workloads import check_workload

    allowed = allowed_repos or policy.default_allowed_repos()
    report = LintReport(path=label, objects=len(tree.objects), kustomizations=len(tree.builds) + len(tree.build_errors))
    out = report.findings
    for root, error in sorted(tree.build_errors.items()):
        out.append(Finding("GL001", root, f"Kustomization/{root}", error))
    for file, index in tree.not_objects:
        out.append(Finding("GL002", file, f"document {index + 1}", "no apiVersion, kind or metadata.name"))
    for broken, said in tree.syntax_errors:
        out.append(Finding("GL007", broken, "file", said))
    for dup in tree.duplicate_keys:
        out.append(Finding("GL006", dup.file, f"line {dup.line}",
                           f"key `{dup.key}` given again in the same mapping (first on line {dup.first_line})"))
    validator = Validator(find_schema_dir(schemas), k8s_version or default_kubernetes_version())
    warned: set[str] = set()
    for obj in tree.objects:
        problem = validator.check(obj)
        if problem and not (problem[0] == "GL005" and problem[1] in warned):
            warned.add(problem[1])
            out.append(Finding(problem[0], obj.file, obj.ref, problem[1]))
    projs = projects(tree)
    for p in projs.values():
        out.extend(check_project(p, allowed))
    apps = applications(tree)
    deployer: dict[int, Any] = {}
    for app in apps:
        out.extend(check_app(app, projs, allowed, tree))
        for obj in deployed_objects(tree, app):
            deployer.setdefault(id(obj), app)
    for obj in tree.objects:
        out.extend(check_workload(obj, effective_namespace(obj, deployer.get(id(obj)))))
    report.findings = _dedupe(out)
    return report


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: dict[tuple[str, str, str, str], Finding] = {}
    for f in findings:
        seen.setdefault((f.rule, f.file, f.object, f.message), f)
    return sorted(seen.values(), key=lambda f: (f.file, f.object, f.rule))
