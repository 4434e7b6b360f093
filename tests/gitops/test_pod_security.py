"""Least privilege in the shipped gitops/ tree, read from the built overlays (kubectl kustomize):
every lab workload drops all capabilities, cannot escalate and runs under the runtime's seccomp
profile; hello-api runs as non-root on a read-only root filesystem; every team namespace is
default-deny with only the flows the lab needs (DNS, its own namespace, Prometheus, the ML store,
the served ports)."""

from __future__ import annotations

import pytest

from gitopslab.lint import shipped_gitops_dir
from gitopslab.lint.loader import load
from gitopslab.lint.workloads import containers, pod_spec

TEAM_NAMESPACES = ("app-dev", "app-prd", "ml-dev", "ml-prd")
WORKLOAD_ROOTS = ("clusters/app-dev", "clusters/app-prd", "clusters/ml-dev", "clusters/ml-prd", "clusters/platform")


@pytest.fixture(scope="module")
def tree():  # type: ignore[no-untyped-def]
    return load(shipped_gitops_dir())


def workloads(tree, root: str):  # type: ignore[no-untyped-def]
    for obj in tree.builds[root]:
        pod = pod_spec(obj)
        if pod is not None:
            yield obj, pod


@pytest.mark.parametrize("root", WORKLOAD_ROOTS)
def test_every_container_drops_all_capabilities_and_cannot_escalate(tree, root: str) -> None:  # type: ignore[no-untyped-def]
    seen = 0
    for obj, pod in workloads(tree, root):
        assert (pod.get("securityContext") or {}).get("seccompProfile") == {"type": "RuntimeDefault"}, obj.name
        for c in containers(pod):
            sc = c.get("securityContext") or {}
            assert sc.get("allowPrivilegeEscalation") is False, f"{obj.name}/{c['name']}"
            assert (sc.get("capabilities") or {}).get("drop") == ["ALL"], f"{obj.name}/{c['name']}"
            seen += 1
    assert seen, f"{root} builds no workload"


@pytest.mark.parametrize("root", ["clusters/app-dev", "clusters/app-prd"])
def test_hello_api_runs_as_non_root_on_a_read_only_root(tree, root: str) -> None:  # type: ignore[no-untyped-def]
    (pod,) = [p for o, p in workloads(tree, root) if o.name == "hello-api"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    (c,) = containers(pod)
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]  # Python and boto3 may write there


def policies(tree, ns: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {o.name: o.data for o in tree.builds[f"clusters/{ns}/guardrails"] if o.kind == "NetworkPolicy"}


@pytest.mark.parametrize("ns", TEAM_NAMESPACES)
def test_every_team_namespace_is_default_deny_with_the_labs_flows(tree, ns: str) -> None:  # type: ignore[no-untyped-def]
    found = policies(tree, ns)
    deny = found["default-deny"]["spec"]
    assert deny["podSelector"] == {} and sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny and "egress" not in deny
    assert all(p["metadata"]["namespace"] == ns for p in found.values())
    dns = found["allow-dns"]["spec"]["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert dns["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
    store = found["allow-ml-store"]["spec"]["egress"]
    targets = {(t["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"], t["ports"][0]["port"]) for t in store}
    assert targets == {("minio", 9000), ("mlflow", 5000)}
    assert all(t["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ml-dev"}
               for t in store)
    served = found["allow-served-ports"]["spec"]["ingress"][0]
    assert {p["port"] for p in served["ports"]} == {8080, 9000, 9001, 5000}
    # nothing else leaves the namespace: no policy allows egress to everywhere
    for name, policy in found.items():
        for rule in policy["spec"].get("egress", []):
            assert rule.get("to"), f"{ns}/{name} allows egress to any destination"
