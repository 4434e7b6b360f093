"""Argo CD's own matching semantics, ported from pkg/apis/application/v1alpha1/app_project_types.go
(v3.5): gobwas globs (`*`, `**`, `?`, `[...]`, `{a,b}`); `!` denies; a destination matches by server OR
name, AND namespace; source repos are normalized git URLs matched with `/` as separator."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1024)
def _compile(pattern: str, separators: str) -> re.Pattern[str]:
    sep = re.escape(separators) if separators else ""
    one = f"[^{sep}]" if sep else "."
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
            else:
                out.append(f"{one}*")
                i += 1
            continue
        if c == "?":
            out.append(one)
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                body = "^" + body[1:] if body.startswith("!") else body
                out.append(f"[{body}]")
                i = end
        elif c == "{":
            end = pattern.find("}", i)
            if end == -1:
                out.append(re.escape(c))
            else:
                alts = pattern[i + 1:end].split(",")
                out.append("(?:" + "|".join(_compile(a, separators).pattern[4:-3] for a in alts) + ")")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^(?:" + "".join(out) + r")\Z", re.DOTALL)


def glob_match(pattern: str, value: str, allow_negation: bool = True, separators: str = "") -> bool:
    """Argo CD's globMatch: `!pat` is true when pat does NOT match; `*` matches everything."""
    if allow_negation and pattern.startswith("!"):
        return not _compile(pattern[1:], separators).match(value)
    if pattern == "*":
        return True
    return bool(_compile(pattern, separators).match(value))


def is_deny(pattern: str | None) -> bool:
    return bool(pattern) and str(pattern).startswith("!")


def normalize_git_url(url: str) -> str:
    """What Argo CD's git.NormalizeGitURL does for http(s) URLs: lower case, no trailing `/` or `.git`."""
    url = url.strip().lower()
    url = url.rstrip("/")
    return url[:-4] if url.endswith(".git") else url


def destination_permitted(project: dict[str, Any], server: str, name: str, namespace: str) -> bool:
    any_matched, no_deny_matched = False, True
    for item in (project.get("spec") or {}).get("destinations") or []:
        i_name, i_server, i_ns = (str(item.get(k) or "") for k in ("name", "server", "namespace"))
        name_ok = bool(name) and glob_match(i_name, name)
        server_ok = bool(server) and glob_match(i_server, server)
        ns_ok = glob_match(i_ns, namespace)
        if (server_ok or name_ok) and ns_ok:
            any_matched = True
        elif (not name_ok and is_deny(i_name)) or (not server_ok and is_deny(i_server)) or (
            not ns_ok and is_deny(i_ns)
        ):
            no_deny_matched = False
    return any_matched and no_deny_matched


def source_permitted(project: dict[str, Any], repo_url: str) -> bool:
    src = normalize_git_url(repo_url)
    any_matched = False
    for repo in (project.get("spec") or {}).get("sourceRepos") or []:
        repo = str(repo)
        normalized = "!" + normalize_git_url(repo[1:]) if is_deny(repo) else normalize_git_url(repo)
        if glob_match(normalized, src, True, "/"):
            any_matched = True
        elif is_deny(normalized):
            return False
    return any_matched


def _in_list(group: str, kind: str, items: list[dict[str, Any]]) -> bool:
    return any(
        glob_match(str(i.get("group", "")), group, False) and glob_match(str(i.get("kind", "")), kind, False)
        for i in items
    )


def group_kind_permitted(project: dict[str, Any], group: str, kind: str, namespaced: bool) -> bool:
    """IsGroupKindPermitted: a namespaced whitelist that is absent allows all; cluster-scoped needs one."""
    spec = project.get("spec") or {}
    if namespaced:
        white = spec.get("namespaceResourceWhitelist")
        black = spec.get("namespaceResourceBlacklist") or []
        listed = white is None or (len(white) != 0 and _in_list(group, kind, white))
    else:
        white = spec.get("clusterResourceWhitelist") or []
        black = spec.get("clusterResourceBlacklist") or []
        listed = len(white) != 0 and _in_list(group, kind, white)
    return listed and not (black and _in_list(group, kind, black))


def literal_prefix(pattern: str) -> str:
    """The part of a glob before its first metacharacter."""
    m = re.search(r"[*?\[{\\]", pattern)
    return pattern if m is None else pattern[: m.start()]
