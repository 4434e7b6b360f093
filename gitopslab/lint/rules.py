"""The rules of `gitopslab lint`, their ids and fixes, and the finding / report records.

Rule ids are stable (tests and CI gates key on them); the JSON shape is `gitopslab/lint` version 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str  # "error" | "warning"
    fix: str


_RULES = [
    Rule("GL001", "build-failed", "error", "make `kubectl kustomize DIR` succeed (missing base, typo, bad patch)"),
    Rule("GL002", "not-a-kubernetes-object", "error",
         "give the document apiVersion, kind and metadata.name, or move it out of the manifest tree"),
    Rule("GL003", "schema-invalid", "error", "correct the field named in the message (strict schema)"),
    Rule("GL004", "unknown-api", "error",
         "use an apiVersion/kind the cluster serves, or install its CRD and pass its schema with --schemas"),
    Rule("GL005", "schema-unavailable", "warning",
         "export the CRD's schema from a cluster that has it (the message gives the kubectl line), or copy the CRD "
         "manifest as upstream ships it, into a folder and pass --schemas DIR (or GITOPSLAB_SCHEMAS); core kinds: "
         "pip install 'gitopslab[lint]'"),
    Rule("GL006", "duplicate-key", "error",
         "keep one of the repeated keys (merge their values): Argo CD, kustomize and kubectl refuse a mapping "
         "with a key given twice, and other YAML readers silently keep only the last"),
    Rule("GL007", "yaml-syntax", "error",
         "fix the YAML syntax at the line and column the message names (indentation, a missing colon or quote)"),
    Rule("GL101", "default-project", "error", "set spec.project to the team's project (never `default`)"),
    Rule("GL102", "unknown-project", "error", "define the AppProject in the repo, or name an existing one"),
    Rule("GL103", "destination-not-permitted", "error",
         "deploy into a namespace the project lists in spec.destinations (a team's own namespaces)"),
    Rule("GL104", "source-not-permitted", "error", "use a repoURL that the project lists in spec.sourceRepos"),
    Rule("GL105", "repo-not-allowed", "error",
         "use the lab's Gitea repos or a named chart repo (or pass --allow-repo for your own)"),
    Rule("GL106", "prd-revision", "error", "set targetRevision to the protected branch (main) in prd projects"),
    Rule("GL107", "resource-not-permitted", "error",
         "move the object to the platform's app, or whitelist its kind in the project if the team owns it"),
    Rule("GL108", "prd-on-dev-cluster", "error",
         "deploy prd to the cluster its project names (destination.name, e.g. `prd`), never to the dev cluster "
         "(in-cluster, https://kubernetes.default.svc) where Argo CD itself runs"),
    Rule("GL201", "team-namespace-scope", "error",
         "limit the team project's destinations to its own namespaces (e.g. ml-*), never argocd/kube-system"),
    Rule("GL202", "team-cluster-resources", "error",
         "remove clusterResourceWhitelist from team projects: only `platform` creates cluster-scoped objects"),
    Rule("GL203", "team-namespace-resources", "error",
         "give the team project an explicit namespaceResourceWhitelist without quotas, limits, RBAC or policies"),
    Rule("GL204", "orphaned-resources", "warning",
         "set orphanedResources.warn: true; ignore only Secrets by name (TLS, sealed-secret outputs) and PVCs"),
    Rule("GL205", "role-scope", "error",
         "scope role policies to `proj:<project>:<role>` and `<project>/*`; no write actions in prd roles"),
    Rule("GL206", "serving-outside-ml", "error",
         "serve models as InferenceServices only from the ML projects (ml-*); the App team consumes them "
         "through a Service of its own (seed 000)"),
    Rule("GL301", "gpu-outside-ml", "error", "request nvidia.com/gpu only in ML namespaces (ml-*)"),
    Rule("GL302", "resources-missing", "error", "declare requests and limits for cpu and memory on every container"),
    Rule("GL303", "image-unpinned", "error", "pin the image to a tag other than latest (or a digest)"),
]
RULES: dict[str, Rule] = {r.id: r for r in _RULES}


@dataclass(frozen=True)
class Finding:
    rule: str
    file: str
    object: str
    message: str

    @property
    def severity(self) -> str:
        return RULES[self.rule].severity

    def to_dict(self) -> dict[str, Any]:
        r = RULES[self.rule]
        return {"rule": r.id, "name": r.name, "severity": r.severity, "file": self.file,
                "object": self.object, "message": self.message, "fix": r.fix}


@dataclass
class LintReport:
    path: str
    findings: list[Finding] = field(default_factory=list)
    objects: int = 0
    kustomizations: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": not self.errors,
            "summary": {"errors": len(self.errors), "warnings": len(self.findings) - len(self.errors),
                        "objects": self.objects, "kustomizations": self.kustomizations},
            "findings": [f.to_dict() for f in self.findings],
            "rules": [asdict(r) for r in _RULES],
        }
