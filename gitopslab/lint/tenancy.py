"""The tenancy rules of DESIGN.md section 4, with Argo CD's own matching (globs.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gitopslab.lint import policy
from gitopslab.lint.apps import CLUSTER_SCOPED, App, deployed_objects, effective_namespace, templated
from gitopslab.lint.globs import (
    destination_permitted,
    glob_match,
    group_kind_permitted,
    is_deny,
    literal_prefix,
    source_permitted,
)
from gitopslab.lint.loader import Obj, Tree
from gitopslab.lint.rules import Finding


def _spec(project: Obj) -> dict[str, Any]:
    return project.data.get("spec") or {}


def repo_allowed(repo: str, allowed: list[str]) -> bool:
    """Is this repo URL (or a project's sourceRepos entry, taken literally) inside the allowed globs?"""
    fake = {"spec": {"sourceRepos": allowed}}
    return source_permitted(fake, repo)


# ---- AppProjects -------------------------------------------------------------------------------

def check_project(p: Obj, allowed_repos: list[str]) -> Iterator[Finding]:
    spec, team = _spec(p), policy.project_team(p.data)
    for repo in spec.get("sourceRepos") or []:
        if is_deny(str(repo)):
            # Argo CD: `!x` matches every repo that is not x, so it opens the project to all others.
            yield Finding("GL105", p.file, p.ref, f"sourceRepos entry {repo!r} admits every other repo")
        elif not repo_allowed(str(repo), allowed_repos):
            yield Finding("GL105", p.file, p.ref, f"sourceRepos admits {repo!r}, outside {allowed_repos}")
    yield from _orphaned(p)
    yield from _roles(p)
    if team == policy.PLATFORM_TEAM:
        return
    yield from _namespace_scope(p, team)
    if spec.get("clusterResourceWhitelist"):
        kinds = ", ".join(f"{i.get('group') or 'core'}/{i.get('kind')}" for i in spec["clusterResourceWhitelist"])
        yield Finding("GL202", p.file, p.ref, f"team project may create cluster-scoped objects: {kinds}")
    if spec.get("namespaceResourceWhitelist") is None:
        yield Finding("GL203", p.file, p.ref, "no namespaceResourceWhitelist: every namespaced kind is allowed")
    else:
        leaks = [f"{g or 'core'}/{k}" for g, k in policy.GUARDRAIL_KINDS if group_kind_permitted(p.data, g, k, True)]
        if leaks:
            yield Finding("GL203", p.file, p.ref, f"team may deploy the platform's guardrail kinds: {', '.join(leaks)}")
        serving = [f"{g}/{k}" for g, k in policy.SERVING_KINDS if group_kind_permitted(p.data, g, k, True)]
        if serving and team != policy.ML_TEAM:
            yield Finding("GL206", p.file, p.ref, f"{team or 'non-ML'} project may deploy {', '.join(serving)}: "
                          "only the ML projects serve models")


def _namespace_scope(p: Obj, team: str | None) -> Iterator[Finding]:
    dests = _spec(p).get("destinations") or []
    own = policy.TEAM_NAMESPACES.get(team or "")
    probes = list(policy.CONTROL_NAMESPACES)
    probes += [f"{t}-probe" for t in policy.TEAM_NAMESPACES if t != team]
    for d in dests:
        server = str(d.get("server") or "")
        server = policy.IN_CLUSTER if not server or is_deny(server) or templated(server) or "*" in server else server
        reached = [ns for ns in probes if destination_permitted(p.data, server, str(d.get("name") or ""), ns)]
        if reached:
            culprit = next((str(x.get("namespace")) for x in dests if glob_match(str(x.get("namespace") or ""), reached[0])),
                           str(d.get("namespace")))
            yield Finding("GL201", p.file, p.ref,
                          f"destination namespace {culprit!r} reaches namespaces outside the team: {', '.join(reached)}")
            return
        ns = str(d.get("namespace") or "")
        if own and ns and not is_deny(ns) and not literal_prefix(ns).startswith(own.rstrip("*")):
            yield Finding("GL201", p.file, p.ref, f"destination namespace {ns!r} is not confined to {own}")
            return


def _orphaned(p: Obj) -> Iterator[Finding]:
    orphaned = _spec(p).get("orphanedResources")
    if not isinstance(orphaned, dict) or orphaned.get("warn") is not True:
        yield Finding("GL204", p.file, p.ref, "orphanedResources.warn is not true: objects left outside Git go unseen")
        return
    for item in orphaned.get("ignore") or []:
        group, kind, name = str(item.get("group") or ""), str(item.get("kind") or ""), str(item.get("name") or "")
        ok = group == "" and kind in policy.ORPHAN_IGNORABLE_KINDS and (
            kind == "PersistentVolumeClaim" or (name and name.strip("*") != ""))
        if not ok:
            yield Finding("GL204", p.file, p.ref,
                          f"orphanedResources ignores {group or 'core'}/{kind or '*'} {name or '(any name)'}: "
                          "only controller-made objects (Secrets by name, PVCs) may be ignored")


def _roles(p: Obj) -> Iterator[Finding]:
    prd = policy.project_is_prd(p.data)
    for role in _spec(p).get("roles") or []:
        for policy_line in role.get("policies") or []:
            parts = [x.strip() for x in str(policy_line).split(",")]
            if len(parts) < 5:
                continue
            subject, resource, action, target = parts[1], parts[2], parts[3], parts[4]
            effect = parts[5] if len(parts) > 5 else "allow"
            if subject != f"proj:{p.name}:{role.get('name')}" or not target.startswith(f"{p.name}/"):
                yield Finding("GL205", p.file, p.ref, f"role {role.get('name')!r} policy reaches outside "
                              f"project {p.name!r}: {policy_line!r}")
            elif prd and effect == "allow" and resource in {"applications", "*"} and any(
                    glob_match(action, a, False) for a in policy.PRD_WRITE_ACTIONS):
                yield Finding("GL205", p.file, p.ref, f"prd role {role.get('name')!r} may {action} applications: "
                              "prd changes must come only from the protected branch")


# ---- Applications -------------------------------------------------------------------------------

def _by_name_and_server(server: str, name: str) -> tuple[str, str]:
    """Argo CD resolves a destination's cluster by server or by name; the one cluster lint knows both of is
    its own (in-cluster = https://kubernetes.default.svc), so either form matches a project giving the other."""
    if server == policy.IN_CLUSTER and not name:
        return server, policy.IN_CLUSTER_NAME
    if name == policy.IN_CLUSTER_NAME and not server:
        return policy.IN_CLUSTER, name
    return server, name


def _prd_on_dev_cluster(project: Obj, dest: dict[str, str]) -> str:
    """A prd project that names its own cluster (multicluster) and an Application of it aimed at the dev
    cluster, where Argo CD runs: the message, or "" when that is not the case."""
    if not policy.project_is_prd(project.data) or any(templated(v) for v in dest.values()):
        return ""
    server, name = _by_name_and_server(dest["server"], dest["name"])
    if name != policy.IN_CLUSTER_NAME:
        return ""
    named = sorted({str(d.get("name")) for d in _spec(project).get("destinations") or []
                    if d.get("name") and d.get("name") != policy.IN_CLUSTER_NAME})
    if not named:
        return ""
    return (f"prd Application targets the dev cluster ({dest['server'] or dest['name']}); project "
            f"{project.name!r} deploys prd to cluster {', '.join(repr(n) for n in named)}")


def check_app(app: App, projects: dict[str, Obj], allowed_repos: list[str], tree: Tree) -> Iterator[Finding]:
    o = app.origin
    for src in app.sources:
        repo = str(src.get("repoURL") or "")
        if repo and not templated(repo) and not repo_allowed(repo, allowed_repos):
            yield Finding("GL105", o.file, app.ref, f"source repoURL {repo!r} is outside {allowed_repos}")
    if templated(app.project):
        return
    if app.project in ("", "default"):
        yield Finding("GL101", o.file, app.ref, f"project is {app.project or 'unset'!r}: `default` allows everything")
        return
    project = projects.get(app.project)
    if project is None:
        yield Finding("GL102", o.file, app.ref, f"project {app.project!r} is not defined in this repo")
        return
    dest = app.destination
    on_dev = _prd_on_dev_cluster(project, dest)
    if on_dev:
        yield Finding("GL108", o.file, app.ref, on_dev)
    elif not any(templated(v) for v in dest.values()) and not destination_permitted(
            project.data, *_by_name_and_server(dest["server"], dest["name"]), dest["namespace"]):
        where = dest["server"] or f"name={dest['name']}"
        yield Finding("GL103", o.file, app.ref,
                      f"destination {where} namespace {dest['namespace'] or '(none)'!r} is not permitted by project {app.project!r}")
    for src in app.sources:
        repo = str(src.get("repoURL") or "")
        if repo and not templated(repo) and not source_permitted(project.data, repo):
            yield Finding("GL104", o.file, app.ref, f"repoURL {repo!r} is not in project {app.project!r} sourceRepos")
        if policy.project_is_prd(project.data):
            branch = policy.protected_branch(project.data)
            rev = str(src.get("targetRevision") or "HEAD")
            if rev not in (branch, f"refs/heads/{branch}"):
                yield Finding("GL106", o.file, app.ref,
                              f"prd project {app.project!r} accepts only {branch!r}, targetRevision is {rev!r}")
    yield from _resources(app, project, tree)


def _resources(app: App, project: Obj, tree: Tree) -> Iterator[Finding]:
    dest = app.destination
    team = policy.project_team(project.data)
    server, name = _by_name_and_server(dest["server"], dest["name"])
    # A prd app aimed at the dev cluster is GL108 already; its objects are not also each a GL107.
    wrong_cluster = bool(_prd_on_dev_cluster(project, dest))
    for obj in deployed_objects(tree, app):
        namespaced = obj.kind not in CLUSTER_SCOPED
        if (obj.group, obj.kind) in policy.SERVING_KINDS and team != policy.ML_TEAM:
            yield Finding("GL206", obj.file, obj.ref, f"Application {app.name!r} of the {team or 'non-ML'} project "
                          f"{project.name!r} deploys {obj.group}/{obj.kind}: only the ML projects serve models")
            continue
        if not group_kind_permitted(project.data, obj.group, obj.kind, namespaced):
            scope = "namespaced" if namespaced else "cluster-scoped"
            yield Finding("GL107", obj.file, obj.ref, f"Application {app.name!r} deploys {scope} "
                          f"{obj.group or 'core'}/{obj.kind}, which project {project.name!r} does not permit")
            continue
        ns = effective_namespace(obj, app)
        if namespaced and ns and not wrong_cluster and not destination_permitted(project.data, server, name, ns):
            yield Finding("GL107", obj.file, obj.ref, f"Application {app.name!r} deploys into namespace "
                          f"{ns!r}, which project {project.name!r} does not permit")
