"""The observability profile's entry Application comes from the lab's localized GitOps tree (the one
Gitea received), so on a lab with another Gitea host or port its repoURL is the lab's and the platform
AppProject accepts it; the shipped tree's default URL would be refused."""

from __future__ import annotations

from collections.abc import Callable

import yaml

from gitopslab.model.config import LabConfig
from gitopslab.render import argocd as objs
from gitopslab.stack import argocd_layer
from gitopslab.stack.delivery import prepare_workspace, workspace
from tests.fakes.cluster_lab import Lab


def _running(lab: Lab):  # type: ignore[no-untyped-def]
    prepare_workspace(lab.ctx)
    lab.gitops = workspace(lab.ctx) / "gitops"
    layer = lab.layer()
    for step in layer.cluster_steps():
        if not step.done(lab.ctx):
            step.apply(lab.ctx)
    return layer


MOVED = LabConfig(name="moved-gitea", observability=True, hostnames={"gitea": "git.lab.localhost"},
                  ports={"gitea": 3300})


def test_profile_entry_is_applied_from_the_localized_tree(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(MOVED)
    layer = _running(lab)
    [step] = argocd_layer.profile_steps(layer)
    assert not step.done(lab.ctx)
    step.apply(lab.ctx)
    assert step.done(lab.ctx)

    applied = lab.world.get("Application", "argocd", "platform-observability")
    repo = applied["spec"]["source"]["repoURL"]
    assert repo == objs.gitops_repo_url(lab.ctx.topo) == "http://git.lab.localhost:3300/platform/gitops.git"
    platform = yaml.safe_load((lab.gitops / "projects" / "platform.yaml").read_text())
    assert repo in platform["spec"]["sourceRepos"]


def test_an_entry_applied_with_another_repo_url_is_applied_again(make_lab: Callable[..., Lab]) -> None:
    """A lab that got the shipped entry (the old behaviour) is repaired by the next `up`."""
    lab = make_lab(MOVED)
    layer = _running(lab)
    shipped = yaml.safe_load(argocd_layer.shipped_dir("gitops").joinpath("profiles", "observability.yaml").read_text())
    lab.world.put(shipped)
    [step] = argocd_layer.profile_steps(layer)
    assert not step.done(lab.ctx)
    step.apply(lab.ctx)
    assert lab.world.get("Application", "argocd", "platform-observability")["spec"]["source"]["repoURL"] == \
        "http://git.lab.localhost:3300/platform/gitops.git"


def test_core_lab_has_no_profile_step(make_lab: Callable[..., Lab]) -> None:
    assert argocd_layer.profile_steps(make_lab().layer()) == []
    assert argocd_layer.profile_steps(_running(make_lab(MOVED)))[0].name == "argocd.profile-observability"


KSERVE = LabConfig(name="kserve-lab", kserve=True, hostnames={"gitea": "git.lab.localhost"}, ports={"gitea": 3300})


def test_the_kserve_profile_entry_is_applied_and_its_gpu_variant_replaces_it(make_lab: Callable[..., Lab]) -> None:
    # Issue 27: `up --profile kserve` applies platform-kserve from the localized tree; with the gpu profile
    # the same Application points at base/platform/kserve-gpu (ml-prd's predictor on the GPU node).
    lab = make_lab(KSERVE)
    layer = _running(lab)
    [step] = argocd_layer.profile_steps(layer)
    assert step.name == "argocd.profile-kserve" and not step.done(lab.ctx)
    step.apply(lab.ctx)
    assert step.done(lab.ctx)
    source = lab.world.get("Application", "argocd", "platform-kserve")["spec"]["source"]
    assert (source["repoURL"], source["path"]) == ("http://git.lab.localhost:3300/platform/gitops.git",
                                                   "base/platform/kserve")
    layer._gpu = True  # the gpu profile resolved on (as `--gpu on` on a GPU host does at preflight)
    [step] = argocd_layer.profile_steps(layer)
    assert not step.done(lab.ctx)
    step.apply(lab.ctx)
    assert lab.world.get("Application", "argocd", "platform-kserve")["spec"]["source"]["path"] == \
        "base/platform/kserve-gpu"
    assert step.done(lab.ctx)
