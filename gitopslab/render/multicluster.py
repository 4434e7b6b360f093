"""The multicluster profile's Argo CD side: what the production cluster grants the lab's one Argo CD, the
cluster Secret that registers it, and the GitOps tree as a two-cluster lab needs it.

    prd_access(topo)             objects applied to the PRODUCTION cluster by `up` (kubectl, prd context):
                                 the prd namespaces, ServiceAccount `argocd-manager`, its token Secret, one
                                 ClusterRole of namespaced rules bound by a RoleBinding in each prd namespace
    cluster_secret(topo, ...)    the cluster Secret in the FIRST cluster's `argocd` namespace
                                 (argocd.argoproj.io/secret-type: cluster), Argo CD's name for it: `prd`
    tree_swaps(topo)             relative path -> [(shipped text, two-cluster text)]: prd's projects and
                                 apps name the cluster `prd`; the guardrails reach prd there; prd's hello-api
                                 gets the prd node's NodePort (demo-prd.localhost)

Why not cluster-admin: Argo CD manages only the prd namespaces on that cluster. The cluster Secret says so
(`namespaces: app-prd,ml-prd`, `clusterResources: "false"`), so Argo CD watches and applies namespaced
objects in those namespaces only and never lists cluster-scoped kinds; the RoleBindings give it every verb
there and nothing elsewhere (discovery and /version are open to every authenticated user). What it cannot
do there, `up` does once: create the namespaces (cluster-scoped), before Argo CD is told of the cluster.
A prd AppProject's own limits (kinds, namespaces) apply on top, as on the first cluster.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml

from gitopslab.model.topology import LABEL, Topology

# Argo CD's name for the production cluster: the tree names it, so it does not depend on the lab's name.
PRD_CLUSTER = "prd"
DEV_CLUSTER = "in-cluster"  # Argo CD's own name for the cluster it runs in
MANAGED_NAMESPACES = ("app-prd", "ml-prd")
MANAGER_NAMESPACE = "kube-system"
MANAGER = "argocd-manager"
MANAGER_TOKEN = "argocd-manager-token"
MANAGER_ROLE = "gitopslab-argocd-manager"
CLUSTER_SECRET = "gitopslab-cluster-prd"
TOKEN_SECRET_KEY = "prd_cluster_token"  # the state dir's name for it (placeholder in `gitopslab render`)
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"


def _meta(topo: Topology, name: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {LABEL: topo.lab}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def prd_access(topo: Topology) -> list[dict[str, Any]]:
    """What the production cluster grants Argo CD, in apply order."""
    out: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(topo, ns)} for ns in MANAGED_NAMESPACES]
    out.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(topo, MANAGER, MANAGER_NAMESPACE)})
    # A long-lived token the control plane fills in (Kubernetes keeps these for ServiceAccounts that ask):
    # Argo CD's cluster Secret needs a bearer token that outlives `kubectl create token`'s hour.
    token_meta = _meta(topo, MANAGER_TOKEN, MANAGER_NAMESPACE)
    token_meta["annotations"] = {"kubernetes.io/service-account.name": MANAGER}
    out.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                "metadata": token_meta})
    # Namespaced rules only; a ClusterRole so that one definition serves each RoleBinding, which scopes it.
    out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": _meta(topo, MANAGER_ROLE),
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]})
    for ns in MANAGED_NAMESPACES:
        out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": _meta(topo, MANAGER_ROLE, ns),
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": MANAGER_ROLE},
                    "subjects": [{"kind": "ServiceAccount", "name": MANAGER, "namespace": MANAGER_NAMESPACE}]})
    return out


def cluster_secret(topo: Topology, token: str = "", ca_data: str = "") -> dict[str, Any]:
    """The production cluster as Argo CD knows it. `token` is the ServiceAccount's (never in git or argv:
    `up` applies this through kubectl's stdin); `ca_data` the cluster's CA, base64, as the token Secret
    gives it. Without them (`gitopslab render`) they are placeholders."""
    if not topo.prd_cluster_name:
        raise ValueError("cluster_secret: the lab has no production cluster (the multicluster profile is off)")
    config = {"bearerToken": token or f"<secret:{TOKEN_SECRET_KEY}>",
              "tlsClientConfig": {"insecure": False, "caData": ca_data or "<the prd cluster's CA, base64>"}}
    meta = _meta(topo, CLUSTER_SECRET, "argocd")
    meta["labels"] |= {"argocd.argoproj.io/secret-type": "cluster", "gitopslab.io/environment": "prd"}
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta,
            "stringData": {"name": PRD_CLUSTER, "server": topo.prd_api_url,
                           "namespaces": ",".join(MANAGED_NAMESPACES), "clusterResources": "false",
                           "config": json.dumps(config, sort_keys=True)}}


def dump_all(objs: Sequence[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(list(objs), sort_keys=False)


_IN = f"server: {IN_CLUSTER_SERVER}"
_PRD_NODEPORT_PATCH = """  - path: model-configmap.yaml
  # multicluster: prd's hello-api on the production node's NodePort (http://demo-prd.localhost:8089)
  - target:
      kind: Service
      name: hello-api
    patch: |-
      - op: add
        path: /spec/type
        value: NodePort
      - op: add
        path: /spec/ports/0/nodePort
        value: {node_port}
"""


def tree_swaps(topo: Topology) -> dict[str, list[tuple[str, str]]]:
    """Relative path in gitops/ -> [(shipped text, this lab's text)] for a two-cluster lab; {} for one."""
    if not topo.prd_cluster_name:
        return {}
    swaps: dict[str, list[tuple[str, str]]] = {}
    for ns in MANAGED_NAMESPACES:
        swaps[f"projects/{ns}.yaml"] = [(f"    - {_IN}\n      namespace: {ns}\n",
                                         f"    - name: {PRD_CLUSTER}\n      namespace: {ns}\n")]
        swaps[f"_main_apps/{ns}.yaml"] = [(f"    {_IN}\n    namespace: {ns}\n",
                                           f"    name: {PRD_CLUSTER}\n    namespace: {ns}\n")]
    # The platform's guardrails (quotas, limits, network policies) go where each namespace lives.
    swaps["projects/platform.yaml"] = [(f"    - {_IN}\n      namespace: '*'\n",
                                        f"    - {_IN}\n      namespace: '*'\n"
                                        f"    - name: {PRD_CLUSTER}\n      namespace: '*-prd'\n")]
    guard = [(f"          - env: {env}\n            team: {team}\n",
              f"          - env: {env}\n            team: {team}\n"
              f"            cluster: {PRD_CLUSTER if env.endswith('-prd') else DEV_CLUSTER}\n")
             for env, team in (("ml-dev", "ml"), ("ml-prd", "ml"), ("app-dev", "app"), ("app-prd", "app"))]
    swaps["applicationsets/guardrails.yaml"] = guard + [
        (f"        {_IN}\n        namespace: '{{{{.env}}}}'\n", "        name: '{{.cluster}}'\n        namespace: '{{.env}}'\n")]
    node_port = topo.service("hello_api_prd").node_port
    swaps["clusters/app-prd/kustomization.yaml"] = [("  - path: model-configmap.yaml\n",
                                                     _PRD_NODEPORT_PATCH.format(node_port=node_port))]
    return swaps
