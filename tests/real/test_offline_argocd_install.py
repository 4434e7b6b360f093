"""Issue 22.3: offline, Argo CD's pods start from the images `bundle load` imported into the node.

The pinned install manifest (the Argo CD module's manifests/install.yaml: the release asset `bundle save`
carries) sets `imagePullPolicy: Always`, which makes the kubelet ask an unreachable registry offline. `up`
applies a local copy with every container and initContainer on IfNotPresent (render/pull_policy.py)."""

from __future__ import annotations

from typing import Any

import yaml

from gitopslab.render.pull_policy import pod_specs, pull_if_not_present
from gitopslab.stack.cluster_layer import ClusterLayer
from tests.real.cluster_fixtures import ClusterLab, kubectl
from tests.real.cluster_harness import module_dir


def _install_manifest() -> str:
    return (module_dir("argocd") / "manifests" / "install.yaml").read_text(encoding="utf-8")


def _containers(docs: list[Any]) -> list[dict[str, Any]]:
    return [c for spec in pod_specs(docs) for c in [*(spec.get("initContainers") or []), *spec["containers"]]]


def _without_policies(docs: list[Any]) -> list[Any]:
    for container in _containers(docs):
        container.pop("imagePullPolicy", None)
    return docs


def test_the_pinned_manifest_asks_for_always_and_the_lab_applies_if_not_present() -> None:
    original = _install_manifest()
    before = [d for d in yaml.safe_load_all(original) if d]
    assert "Always" in {c.get("imagePullPolicy") for c in _containers(before)}  # what upstream ships
    after = list(yaml.safe_load_all(pull_if_not_present(original)))
    containers = _containers(after)
    assert len(containers) >= 8  # server, repo-server (and its copyutil init), controller, dex, redis...
    assert {c["imagePullPolicy"] for c in containers} == {"IfNotPresent"}
    # Nothing else changed: same objects, same order, same fields.
    assert _without_policies(after) == _without_policies(before)


def test_argocd_installed_by_up_runs_every_container_if_not_present(argocd_up: ClusterLayer,
                                                                    cluster_lab: ClusterLab) -> None:
    """The live workloads in the real API server after the project's own install step (from a local copy)."""
    live = []
    for kind in ("deployments", "statefulsets"):
        live += kubectl(cluster_lab).get_json(kind, namespace="argocd")["items"]
    names = {o["metadata"]["name"] for o in live}
    assert {"argocd-server", "argocd-repo-server", "argocd-application-controller", "argocd-redis"} <= names
    policies = {(o["metadata"]["name"], c["name"]): c["imagePullPolicy"] for o in live
                for c in [*(o["spec"]["template"]["spec"].get("initContainers") or []),
                          *o["spec"]["template"]["spec"]["containers"]]}
    assert set(policies.values()) == {"IfNotPresent"}, policies
