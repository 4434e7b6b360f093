"""`gitopslab lint`: prove the tenancy rules of an Argo CD GitOps repo (default: the shipped gitops/)."""

from __future__ import annotations

import argparse

DESCRIPTION = """Prove the tenancy rules of an Argo CD GitOps repo.

Builds every kustomization with `kubectl kustomize`, validates every object (strict Kubernetes schemas;
Argo CD, Prometheus Operator and KServe CRD schemas from --schemas / $GITOPSLAB_SCHEMAS), and checks the
tenancy rules with Argo CD's own matching: every Application names a real, non-default project that
permits its destination, source and objects; team projects reach only their own namespaces and no
cluster-scoped kinds; prd projects accept only the protected branch; GPUs only in ML namespaces.
Rules and the JSON shape: docs/TENANCY.md.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", help="GitOps repo folder or YAML file (default: the shipped gitops/)")
    parser.add_argument("--schemas", metavar="DIR",
                        help="folder with the CRD JSON schemas or the CRD manifests as upstream ships them, there or "
                             "in its crds/ (default: $GITOPSLAB_SCHEMAS, $GITOPSLAB_CONTRACTS)")
    parser.add_argument("--allow-repo", action="append", metavar="GLOB",
                        help="a source repo glob projects and apps may use (repeat; default: the lab's Gitea "
                             "org and the pinned chart repos)")
    parser.add_argument("--kubernetes-version", metavar="X.Y", help="schemas of this Kubernetes minor (default: k3s pin)")


def run(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from gitopslab.lint import lint
    from gitopslab.lint.policy import default_allowed_repos
    from gitopslab.model.config import find_config_file, load_config

    # Without --allow-repo, the repos of this lab (its gitopslab.yaml / GITOPSLAB_* decide Gitea's URL).
    cfg = load_config(find_config_file(getattr(args, "config", None), os.environ, Path.cwd()), os.environ)
    allowed = args.allow_repo or default_allowed_repos(cfg)
    report = lint(args.path, schemas=args.schemas, allowed_repos=allowed, k8s_version=args.kubernetes_version)
    if getattr(args, "json", False):
        from gitopslab.ui import print_json

        print_json("lint", report.to_dict())
    else:
        _print_table(report)
    return report.exit_code


def _print_table(report) -> None:  # type: ignore[no-untyped-def]
    from rich.markup import escape
    from rich.table import Table

    from gitopslab.lint.rules import RULES
    from gitopslab.ui import console

    out = console()
    if report.findings:
        table = Table(title=f"gitopslab lint {escape(str(report.path))}", show_lines=True)
        for col in ("rule", "file", "object", "problem", "fix"):
            table.add_column(col, overflow="fold")
        for f in report.findings:
            style = "red" if f.severity == "error" else "yellow"
            # file names, object names and messages come from the linted repo: never markup
            table.add_row(f"[{style}]{escape(f.rule)}[/] {escape(RULES[f.rule].name)}", escape(f.file),
                          escape(f.object), escape(f.message), escape(RULES[f.rule].fix))
        out.print(table)
    d = report.to_dict()["summary"]
    verdict = "[green]clean[/]" if report.exit_code == 0 else "[red]tenancy or schema problems found[/]"
    out.print(f"{verdict}: {d['errors']} error(s), {d['warnings']} warning(s); {d['objects']} objects, "
              f"{d['kustomizations']} kustomizations checked")
