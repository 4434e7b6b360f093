"""The room's workshop password on Argo CD's screen too (issue 16), against the real Argo CD: a lab that
took `credentials.workshop_password` gets it as Argo CD's admin login (argocd-secret's bcrypt hash, as
`argocd account update-password` writes it); the old login stops working and the webhook key stays."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

from gitopslab.clients.argocd import ArgoCD
from gitopslab.context import Context
from gitopslab.errors import LabError
from gitopslab.render.argocd import WEBHOOK_KEY
from gitopslab.stack import argocd_layer
from gitopslab.stack.cluster_layer import ClusterLayer
from gitopslab.state import LabState
from tests.real.cluster_fixtures import ClusterLab, kubectl, layer_for
from tests.real.cluster_harness import RealCluster

ROOM = "Room-42-Workshop-Pass"


def _logs_in(cluster: RealCluster, password: str) -> bool:
    try:
        with ArgoCD(cluster.argocd_url, timeout=15) as api:
            api.login("admin", password)
    except LabError:
        return False
    return True


def test_a_lab_that_took_the_workshop_password_gets_it_in_argocd(argocd_up: ClusterLayer, cluster: RealCluster,
                                                                cluster_lab: ClusterLab, tmp_path: Path) -> None:
    shared = cluster_lab.ctx
    original = shared.state.secret("argocd_admin_password")
    webhook_before = kubectl(cluster_lab).exists("secret", "argocd-secret", "argocd")["data"][WEBHOOK_KEY]
    # A new lab of the room: its state took the workshop password (state.use_workshop_password).
    state = LabState(shared.topo.lab, tmp_path / "state")
    assert state.use_workshop_password(ROOM)
    state.dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(shared.state.kubeconfig, state.kubeconfig)
    cfg = shared.cfg.model_copy(update={"credentials": shared.cfg.credentials.model_copy(
        update={"workshop_password": ROOM})})
    room = Context(cfg=cfg, topo=shared.topo, state=state)
    try:
        argocd_layer.read_password(layer_for(cluster_lab, cluster, ctx=room))
        assert state.secret("argocd_admin_password") == ROOM
        assert _logs_in(cluster, ROOM) and not _logs_in(cluster, original)
        secret = kubectl(cluster_lab).exists("secret", "argocd-secret", "argocd")["data"]
        assert base64.b64decode(secret["admin.password"]).startswith(b"$2")  # a bcrypt hash, never the text
        assert ROOM.encode() not in base64.b64decode(secret["admin.password"])
        assert secret[WEBHOOK_KEY] == webhook_before  # the other manager's key is untouched
    finally:  # the session's other tests log in with the shared lab's password
        argocd_layer.set_admin_password(layer_for(cluster_lab, cluster), original)
    assert _logs_in(cluster, original)


def test_an_existing_lab_keeps_argocds_own_password(argocd_up: ClusterLayer, cluster: RealCluster,
                                                    cluster_lab: ClusterLab) -> None:
    """The shared lab never took the workshop password: setting one later changes nothing in Argo CD."""
    shared = cluster_lab.ctx
    before = shared.state.secret("argocd_admin_password")
    cfg = shared.cfg.model_copy(update={"credentials": shared.cfg.credentials.model_copy(
        update={"workshop_password": ROOM})})
    later = Context(cfg=cfg, topo=shared.topo, state=shared.state)
    assert not later.state.use_workshop_password(ROOM)
    argocd_layer.read_password(layer_for(cluster_lab, cluster, ctx=later))
    assert shared.state.secret("argocd_admin_password") == before and _logs_in(cluster, before)
    assert not _logs_in(cluster, ROOM)
