"""Argo CD's matching, as app_project_types.go (v3.5) defines it."""

from __future__ import annotations

from gitopslab.lint.globs import (
    destination_permitted,
    glob_match,
    group_kind_permitted,
    normalize_git_url,
    source_permitted,
)

IN = "https://kubernetes.default.svc"


def proj(**spec: object) -> dict:
    return {"spec": spec}


def test_glob_basics() -> None:
    assert glob_match("ml-*", "ml-dev")
    assert not glob_match("ml-*", "app-dev")
    assert glob_match("!kube-system", "ml-dev") and not glob_match("!kube-system", "kube-system")
    assert glob_match("{ml,app}-dev", "app-dev") and not glob_match("{ml,app}-dev", "ops-dev")
    assert glob_match("ml-[dp]??", "ml-prd") and not glob_match("ml-[!dp]??", "ml-prd")
    # with '/' as separator, * stays in one path segment and ** crosses them
    assert not glob_match("http://g/platform/*", "http://g/platform/a/b", separators="/")
    assert glob_match("http://g/platform/**", "http://g/platform/a/b", separators="/")


def test_destination_matches_server_or_name_and_namespace() -> None:
    p = proj(destinations=[{"server": IN, "namespace": "ml-*"}, {"name": "gpu", "namespace": "ml-prd"}])
    assert destination_permitted(p, IN, "", "ml-dev")
    assert destination_permitted(p, "", "gpu", "ml-prd")
    assert not destination_permitted(p, "", "gpu", "ml-dev")
    assert not destination_permitted(p, IN, "", "argocd")


def test_negated_destination_denies() -> None:
    p = proj(destinations=[{"server": "*", "namespace": "*"}, {"server": "*", "namespace": "!argocd"}])
    assert destination_permitted(p, IN, "", "ml-dev")
    assert not destination_permitted(p, IN, "", "argocd")


def test_source_repos_are_normalized_globs_with_denies() -> None:
    p = proj(sourceRepos=["http://gitea.localhost:3000/platform/*", "!http://gitea.localhost:3000/platform/secret.git"])
    assert source_permitted(p, "http://GITEA.localhost:3000/platform/gitops.git/")
    assert not source_permitted(p, "http://gitea.localhost:3000/platform/secret")
    # Argo CD's semantics: a `!` entry matches every repo it does not name, so it admits GitHub too
    assert source_permitted(p, "https://github.com/company/ml-platform.git")
    assert not source_permitted(proj(sourceRepos=["http://gitea.localhost:3000/platform/*"]),
                                "https://github.com/company/ml-platform.git")
    assert normalize_git_url("HTTP://X/Y.git/") == "http://x/y"


def test_group_kind_whitelists() -> None:
    assert group_kind_permitted(proj(), "apps", "Deployment", True)  # no namespaced whitelist: all allowed
    assert not group_kind_permitted(proj(namespaceResourceWhitelist=[]), "apps", "Deployment", True)
    assert not group_kind_permitted(proj(), "", "Namespace", False)  # cluster-scoped needs a whitelist
    p = proj(clusterResourceWhitelist=[{"group": "*", "kind": "*"}], clusterResourceBlacklist=[{"group": "", "kind": "Node"}])
    assert group_kind_permitted(p, "", "Namespace", False) and not group_kind_permitted(p, "", "Node", False)
