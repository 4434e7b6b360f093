"""What Gitea is seeded with: the organization, teams, repositories and branch rules, as data.

Seed 000's RBAC table, mapped onto Gitea:

| team     | Git rights (seed 000)                 | Gitea team                  | branch rules here                    |
|----------|---------------------------------------|-----------------------------|--------------------------------------|
| ml       | `ml-*` branches, ml paths             | write on code/pulls/issues  | pushes to `ml-*`; other teams' paths |
|          |                                       |                             | protected there; 1 approval (ml)     |
| app      | `app-*` branches, app paths           | write on code/pulls/issues  | the same for `app-*`                 |
| devops   | `main`, platform paths                | admin                       | the only pushers to `main`; 2        |
|          |                                       |                             | approvals (devops/security) to merge |
| security | review-only                           | read on every unit          | may review; cannot push              |

Protected file patterns (Gitea: changed only through a reviewed pull request, even by whitelisted
pushers) keep the tenancy layer (`_main_apps/`, `projects/`, `bootstrap/`, `applicationsets/`,
`base/platform/`) behind review on `main`.

Machines have their own users, never the site admin's credentials:

| user               | rights                                   | used by                                      |
|--------------------|------------------------------------------|----------------------------------------------|
| `gitopslab-ci`     | team `ci`: write on `gitops` only; on    | the update-gitops CI step (write:repository  |
|                    | `main` it may push a change only when    | token): a leaked token can move the dev pins |
|                    | every file is in DEV_PINS (Gitea's       | and nothing else; prd pins still need devops |
|                    | `unprotected_file_patterns`)             | and two approvals                            |
| `gitopslab-argocd` | read (the repositories are public)       | Argo CD's repository Secret (read:repository)|
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ORG = "platform"
ORG_BODY = {
    "username": ORG,
    "full_name": "Platform",
    "description": "GitOps + MLOps lab: the GitOps tree and the hello-api service",
    "visibility": "public",
    "repo_admin_change_team_access": False,
}

_UNITS = ("repo.code", "repo.issues", "repo.pulls", "repo.releases", "repo.wiki", "repo.projects",
          "repo.packages", "repo.actions")


def _units(default: str, **overrides: str) -> dict[str, str]:
    units = {u: default for u in _UNITS}
    units.update({f"repo.{k}": v for k, v in overrides.items()})
    return units


@dataclass(frozen=True)
class TeamSpec:
    name: str
    description: str
    permission: str                       # read | write | admin
    units_map: Mapping[str, str] = field(default_factory=dict)
    includes_all_repositories: bool = True

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "permission": self.permission,
            "includes_all_repositories": self.includes_all_repositories,
            "can_create_org_repo": self.permission == "admin",
        }
        if self.permission != "admin":  # Gitea 500s without units below admin; admin gets every unit
            body["units_map"] = dict(self.units_map)
        return body


CI_BOT, ARGOCD_BOT, CI_TEAM = "gitopslab-ci", "gitopslab-argocd", "ci"
# The only files the CI bot may change on gitops `main` (the update-gitops step's two edits).
# The pipeline pins hello-api in app-dev and the same model for the kserve profile's InferenceService in
# ml-dev (update-gitops.sh's GITOPS_MODEL_OVERLAYS): the real Gitea refused the pin commit without the last.
DEV_PINS = ("clusters/app-dev/kustomization.yaml", "clusters/app-dev/model-configmap.yaml",
            "clusters/ml-dev/models/model-configmap.yaml")
CI_TEAM_REPOS = ("gitops",)

TEAMS = (
    TeamSpec("ml", "ML team: ml-* branches, base/ml and clusters/ml-* (seed 000)", "write",
             _units("write", releases="read", packages="read", actions="read")),
    TeamSpec("app", "App team: app-* branches, base/app and clusters/app-* (seed 000)", "write",
             _units("write", releases="read", packages="read", actions="read")),
    TeamSpec("devops", "DevOps: main branch, platform paths, every cluster (seed 000)", "admin"),
    TeamSpec("security", "Security: review-only audit access (seed 000)", "read", _units("read")),
    TeamSpec(CI_TEAM, "CI bot: pushes the dev overlay pins to gitops main, nothing else", "write",
             _units("none", code="write"), includes_all_repositories=False),
)


@dataclass(frozen=True)
class RepoSpec:
    name: str
    source: str            # folder (relative to the content root) pushed as the first commit
    description: str

    def body(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "private": False,
                "default_branch": "main", "auto_init": False}


REPOS = (
    RepoSpec("gitops", "gitops", "The GitOps tree Argo CD syncs: projects, apps, overlays per team and env"),
    RepoSpec("hello-api", "pipelines/hello-api", "hello-api: the model-serving API, its training and CI"),
)

_TENANCY = ("_main_apps/**", "projects/**", "bootstrap/**", "applicationsets/**")
_TEAM_PATHS = {
    "ml": ("_main_apps/ml-*.yaml", "base/ml/**", "clusters/ml-*/**"),
    "app": ("_main_apps/app-*.yaml", "base/app/**", "clusters/app-*/**"),
    "platform": ("_main_apps/platform-*.yaml", "base/platform/**", "clusters/platform-*/**"),
}


def _patterns(*groups: tuple[str, ...]) -> str:
    return ";".join(p for group in groups for p in group)


def _rule(name: str, pushers: list[str], approvals: int, approvers: list[str], protected: str,
          priority: int, unprotected: str = "") -> dict[str, Any]:
    return {
        "rule_name": name,
        "priority": priority,
        "enable_push": True,
        "enable_push_whitelist": True,
        "push_whitelist_teams": pushers,
        "enable_force_push": False,
        "required_approvals": approvals,
        "enable_approvals_whitelist": True,
        "approvals_whitelist_teams": approvers,
        "enable_merge_whitelist": True,
        "merge_whitelist_teams": ["devops"],
        "block_on_rejected_reviews": True,
        "dismiss_stale_approvals": True,
        "protected_file_patterns": protected,
        # Anyone with write access may push a change confined to these files (the CI bot's dev pins).
        "unprotected_file_patterns": unprotected,
    }


def _team_branch(team: str, priority: int) -> dict[str, Any]:
    others = tuple(p for t, paths in _TEAM_PATHS.items() if t != team for p in paths)
    return _rule(f"{team}-*", [team, "devops"], 1, [team, "devops"], _patterns(_TENANCY, others), priority)


# (repository, rule) pairs; rule_name may be a glob.
RULES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("gitops", _rule("main", ["devops"], 2, ["devops", "security"],
                     _patterns(_TENANCY, ("base/platform/**",)), 1, _patterns(DEV_PINS))),
    ("gitops", _team_branch("ml", 2)),
    ("gitops", _team_branch("app", 3)),
    ("hello-api", _rule("main", ["devops"], 1, ["devops", "app", "ml", "security"], "", 1)),
    # Every other branch too: a member works from a fork and opens a pull request, whose pipeline gets
    # no CI secret (Woodpecker gives them to push, cron and manual only, and cannot filter by branch).
    # So the only pipelines that read the CI secrets run code devops pushed or reviewers approved.
    ("hello-api", _rule("*", ["devops"], 1, ["devops", "app", "ml", "security"], "", 2)),
)


def team_differs(current: Mapping[str, Any], spec: TeamSpec) -> bool:
    """Compare only what the seed sets; Gitea fills in the rest (and reports admin teams' units)."""
    if current.get("permission") == "owner":
        return False
    if (current.get("description") != spec.description
            or bool(current.get("includes_all_repositories")) != spec.includes_all_repositories):
        return True
    if spec.permission == "admin":
        return current.get("permission") != "admin"
    units = current.get("units_map") or {}
    return any(units.get(unit) != mode for unit, mode in spec.units_map.items())


def rule_differs(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    for key, value in wanted.items():
        have = current.get(key)
        if isinstance(value, list):
            if sorted(have or []) != sorted(value):
                return True
        elif (have or type(value)()) != value:
            return True
    return False
