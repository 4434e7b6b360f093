"""Headlamp's ServiceAccount, whose token is the dashboard's login (`gitopslab creds` prints the
command), reads the cluster through the built-in `view` role only (issue 23, item 5)."""

from __future__ import annotations

from gitopslab.lint import shipped_gitops_dir
from gitopslab.lint.loader import load


def test_headlamp_account_is_bound_to_view_and_nothing_more() -> None:
    tree = load(shipped_gitops_dir())
    objects = [o.data for o in tree.builds["clusters/platform"]]
    bindings = [o for o in objects if o["kind"] in ("ClusterRoleBinding", "RoleBinding")
                and any(s.get("name") == "headlamp" for s in o.get("subjects", []))]
    assert len(bindings) == 1, bindings
    binding = bindings[0]
    assert binding["kind"] == "ClusterRoleBinding"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "headlamp", "namespace": "platform"}]
    account = next(o for o in objects if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == "headlamp")
    assert account["metadata"]["namespace"] == "platform"
