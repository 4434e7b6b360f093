"""Issue 25, offline: the production cluster's node pulls nothing either. Its lane imports the bundle's
node images right after `prd.create` (a step of its own name, so the journal keeps both clusters'), and the
bundle carries the stock k3s node image the production cluster runs even when the first cluster's node is
the locally built CUDA one."""

from __future__ import annotations

from collections.abc import Callable

from gitopslab.conductor import plan
from gitopslab.conductor import runner as orchestrator
from gitopslab.context import Context
from gitopslab.model.config import LabConfig
from gitopslab.offline.archive import bundle_dir
from gitopslab.offline.needs import ARGOCD_MANIFEST, K3S_IMAGES, lab_needs
from gitopslab.stack.prd_cluster import prd_layer
from tests.fakes.cluster_lab import Lab

OFFLINE = LabConfig(name="room", offline=True, multicluster=True)
PAUSE = "docker.io/rancher/mirrored-pause:3.6"


def test_the_production_node_gets_the_bundle_images_after_it_is_made(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(OFFLINE)
    folder = bundle_dir(lab.ctx)
    folder.mkdir(parents=True)
    (folder / K3S_IMAGES).write_text(f"{PAUSE}\n")
    (folder / ARGOCD_MANIFEST).write_text("kind: List\n")
    wanted = set(lab_needs(lab.ctx, folder).node)
    lab.world.images |= wanted | {OFFLINE.image("k3s")}
    prd = prd_layer(lab.layer(OFFLINE))
    assert prd is not None
    steps = plan.cluster_steps(lab.ctx, prd)
    names = [s.name for s in steps]
    assert names == ["prd.create", "prd.offline-images", "prd.names", "prd.access"]
    run = orchestrator.run(lab.ctx, steps[:2])
    assert [o.action for o in run.outcomes] == ["applied", "applied"]
    imports = [str(c) for c in lab.world.calls if "import" in str(c)]
    assert imports and all("k3d-room-prd-server-0" in c for c in imports)
    assert lab.world.node_images == wanted


def test_the_bundle_carries_the_production_nodes_image_beside_a_gpu_node() -> None:
    cfg = LabConfig(gpu="on", multicluster=True)
    needs = lab_needs(Context.from_config(cfg))
    assert "k3d node of the production cluster (k3s, multicluster)" in needs.engine[cfg.image("k3s")]
    assert cfg.image("k3s") not in lab_needs(Context.from_config(LabConfig(gpu="on"))).engine
