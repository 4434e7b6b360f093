"""What a GitOps commit does in the real Argo CD: the pipeline's model pin rolls hello-api, a sync
leaves HPA-owned replicas alone, and Gitea's push webhook (as Gitea signs it) applies a push at once.

The commits are written by the pipeline's own update-gitops.sh (`delivery.pin_in_tree`); the push hook
is posted exactly as Gitea posts a `gitea` hook (X-Gitea-Event and X-Gogs-Event, HMAC-SHA256 of the body).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx

from gitopslab.render.argocd import gitops_repo_url
from gitopslab.stack.cluster_layer import ClusterLayer
from gitopslab.stack.delivery import ModelPin, pin_in_tree
from tests.real.cluster_fixtures import ClusterLab, GitOps, argocd_api, kubectl
from tests.real.cluster_harness import RealCluster

APP_NS = "app-dev"


def until(check: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last seen: {last!r})")


def replicasets(cluster_lab: ClusterLab) -> set[str]:
    items = kubectl(cluster_lab).get_json("replicasets", namespace=APP_NS)["items"]
    return {r["metadata"]["name"] for r in items if r["metadata"]["name"].startswith("hello-api-")}


def new_pin() -> ModelPin:
    return ModelPin(model_object=f"s3://models/hello/{secrets.token_hex(4)}.skops", model_sha=secrets.token_hex(32))


def live_model_sha(cluster_lab: ClusterLab) -> str:
    """MODEL_SHA of the ConfigMap the live hello-api Deployment reads (its name carries kustomize's hash)."""
    kube = kubectl(cluster_lab)
    deploy = kube.exists("deployment", "hello-api", APP_NS) or {}
    containers = deploy.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    names = [ref["configMapRef"]["name"] for c in containers for ref in c.get("envFrom") or [] if "configMapRef" in ref]
    cm = kube.exists("configmap", names[0], APP_NS) if names else None
    return str(((cm or {}).get("data") or {}).get("MODEL_SHA", ""))


def test_a_model_pin_commit_rolls_hello_api(argocd_up: ClusterLayer, cluster: RealCluster, cluster_lab: ClusterLab,
                                            gitops: GitOps) -> None:
    before = until(lambda: replicasets(cluster_lab), "hello-api's first ReplicaSet in app-dev")
    pin = new_pin()
    pin_in_tree(gitops.tree, pin)
    gitops.commit("pin model (update-gitops.sh)")
    with argocd_api(cluster, cluster_lab) as argocd:
        argocd.refresh("app-dev")
    until(lambda: live_model_sha(cluster_lab) == pin.model_sha, "the pinned MODEL_SHA live in app-dev")
    grown = until(lambda: replicasets(cluster_lab) - before, "a new hello-api ReplicaSet after the pin", 60)
    assert grown, f"the pin changed the ConfigMap but rolled no pods (ReplicaSets still {sorted(before)})"


def test_a_sync_keeps_hpa_owned_replicas(argocd_up: ClusterLayer, cluster: RealCluster,
                                         cluster_lab: ClusterLab) -> None:
    kube = kubectl(cluster_lab)
    kube.run("scale", "deployment/hello-api", "-n", APP_NS, "--replicas=3")  # what an HPA does
    with argocd_api(cluster, cluster_lab) as argocd:
        argocd.sync("app-dev")
        until(lambda: (argocd.refresh("app-dev").operation or "").lower().startswith(("succeeded", "failed", "error"))
              or _operation_done(cluster, "app-dev"), "the app-dev sync to finish")
    replicas = kube.get_json("deployment", "hello-api", APP_NS)["spec"]["replicas"]
    assert replicas == 3, "a sync put the HPA-owned replica count back to the Git value"


def _operation_done(cluster: RealCluster, app: str) -> bool:
    status = json.loads(cluster.kubectl("get", "application", app, "-n", "argocd", "-o", "json").stdout)["status"]
    return (status.get("operationState") or {}).get("phase") in ("Succeeded", "Failed", "Error")


def test_app_prd_is_healthy_in_its_initial_state(argocd_up: ClusterLayer, cluster: RealCluster,
                                                 cluster_lab: ClusterLab) -> None:
    with argocd_api(cluster, cluster_lab) as argocd:
        status = until(lambda: next((a for a in argocd.applications() if a.name == "app-prd" and a.ready), None),
                       "app-prd Synced and Healthy", 240)
    assert status.health == "Healthy"


def gitea_push(cluster_lab: ClusterLab, before: str, after: str, files: list[str]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of Gitea's push hook for the GitOps repo (a `gitea`-type hook)."""
    url = gitops_repo_url(cluster_lab.ctx.topo)
    body = json.dumps({
        "ref": "refs/heads/main", "before": before, "after": after,
        "repository": {"full_name": "platform/gitops", "html_url": url.removesuffix(".git"), "clone_url": url,
                       "default_branch": "main"},
        "commits": [{"id": after, "message": "push", "added": [], "removed": [], "modified": files}],
    }).encode()
    key = cluster_lab.ctx.state.secret("argocd_webhook_secret").encode()
    signature = hmac.new(key, body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Gitea-Event": "push", "X-Gogs-Event": "push",
                  "X-Gitea-Signature": signature, "X-Gogs-Signature": signature}


def test_a_push_webhook_applies_the_commit_before_the_poll(argocd_up: ClusterLayer, cluster: RealCluster,
                                                           cluster_lab: ClusterLab, gitops: GitOps) -> None:
    before = gitops.head()
    pin = new_pin()
    pin_in_tree(gitops.tree, pin)
    after = gitops.commit("pin model, announced by the webhook")
    body, headers = gitea_push(cluster_lab, before, after, ["clusters/app-dev/model-configmap.yaml"])
    started = time.monotonic()
    answer = httpx.post(f"{cluster.argocd_url}/api/webhook", content=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    until(lambda: live_model_sha(cluster_lab) == pin.model_sha, "the pushed MODEL_SHA live in app-dev", 60)
    assert time.monotonic() - started < cluster.app_resync / 2  # far inside the poll interval


def test_a_badly_signed_webhook_changes_nothing(argocd_up: ClusterLayer, cluster: RealCluster,
                                                cluster_lab: ClusterLab, gitops: GitOps) -> None:
    before = gitops.head()
    live_before = live_model_sha(cluster_lab)
    pin_in_tree(gitops.tree, new_pin())
    after = gitops.commit("pin model, announced with a wrong signature")
    body, headers = gitea_push(cluster_lab, before, after, ["clusters/app-dev/model-configmap.yaml"])
    headers["X-Gitea-Signature"] = headers["X-Gogs-Signature"] = "0" * 64
    httpx.post(f"{cluster.argocd_url}/api/webhook", content=body, headers=headers, timeout=10)
    time.sleep(15)
    assert live_model_sha(cluster_lab) == live_before


def test_up_registers_the_push_webhook_on_the_real_gitea_once(argocd_up: ClusterLayer, cluster_lab: ClusterLab) -> None:
    """`up`'s argocd.webhook step (run by the argocd_up fixture) made the hook through the real Gitea API,
    as Argo CD's Gogs handler expects it; a second `up` sees it and adds none. (The real Gitea cannot
    deliver it here: Argo CD runs as a host process on 127.0.0.1, out of the container's reach; the push
    tests above post the same body Gitea would.)"""
    from gitopslab.conductor import runner as orchestrator
    from gitopslab.render.argocd import webhook_url
    from gitopslab.stack.gitea import rbac as gitea_rbac
    from tests.real.cluster_fixtures import webhook_step

    ctx = cluster_lab.ctx
    gitea = ctx.topo.service("gitea")

    def hooks() -> list[dict[str, Any]]:
        auth = (ctx.cfg.admin_user, ctx.state.secret("gitea_admin_password"))
        found = httpx.get(f"http://127.0.0.1:{gitea.port}/api/v1/repos/{gitea_rbac.ORG}/gitops/hooks", auth=auth,
                          headers={"Host": gitea.address}, timeout=20)
        found.raise_for_status()
        return [h for h in found.json() if h["config"]["url"] == webhook_url(ctx.topo)]

    (hook,) = hooks()
    assert hook["type"] == "gitea" and hook["active"] is True and hook["events"] == ["push"]
    assert hook["config"]["content_type"] == "json"
    report = orchestrator.RunReport()
    orchestrator.run_step(ctx, webhook_step(argocd_up), report)
    assert [o.action for o in report.outcomes] == ["skipped"]
    assert len(hooks()) == 1
