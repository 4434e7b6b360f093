"""The concrete steps of `up`, in order, gathered from the stack modules:

    [ compose.core -> seed.workspace -> delivery.image   ||   cluster (GPU image, k3d, edge, GPU runtime, extend)
      [|| multicluster: prd.node-image -> prd.create -> prd.names -> prd.access] ]
    gitea.seed [offline: -> gitea.wheels -> delivery.image, and with observability or kserve -> gitea.charts]
    -> compose.woodpecker -> woodpecker.wire -> cluster.app-secrets
    -> argocd.install/configure/password/repository [-> argocd.cluster-prd] -> argocd.bootstrap/webhook
    -> delivery.model (train, upload, pin) [-> argocd.profile-observability] -> argocd.synced
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitopslab.conductor.wiring import gitea_exec
from gitopslab.context import Context
from gitopslab.stack.step import FuncStep, Stage, Step

if TYPE_CHECKING:
    from gitopslab.stack.cluster_layer import ClusterLayer


def up_stages(ctx: Context, layer: ClusterLayer) -> list[Stage]:
    from gitopslab.stack import (
        app_secrets,
        argocd_layer,
        cluster_additions,
        compose_layer,
        delivery,
        s3_users,
    )
    from gitopslab.stack.gitea import charts, wheels
    from gitopslab.stack.gitea.seed import gitea_seeded, seed_gitea
    from gitopslab.stack.prd_cluster import prd_layer
    from gitopslab.stack.woodpecker_wire import wire_woodpecker, woodpecker_wired

    core, woodpecker = compose_layer.steps(ctx)
    exec_in_gitea = gitea_exec(ctx)
    secrets_step = FuncStep(
        "cluster.app-secrets", "credentials of MinIO, MLflow and hello-api in the cluster (kubectl, not git)",
        lambda c: app_secrets.applied(layer.kubectl(), c.cfg, c.state.secrets()),
        lambda c: app_secrets.apply(layer.kubectl(), c.cfg, c.state.secrets()),
    )
    # Offline, hello-api's image build reads its packages from the lab's Gitea: after seeding, once the
    # bundle's wheelhouse is in Gitea's PyPI registry (stack/gitea/wheels.py).
    online_image, offline_image = ([], [wheels.step(), delivery.image_step()]) if ctx.cfg.offline \
        else ([delivery.image_step()], [])
    # Offline, the observability and kserve profiles' Applications read their charts from the lab's Gitea
    # (stack/gitea/charts.py).
    offline_chart = [charts.step()] if charts.needed(ctx) else []
    # multicluster: the production cluster is made in a lane of its own, registered once Argo CD runs.
    prd = prd_layer(layer)
    prd_lane = [cluster_steps(ctx, prd)] if prd else []
    prd_registration = [prd.registration_step(layer)] if prd else []
    stages: list[Stage] = [
        ([core, delivery.workspace_step(), *online_image],
         [*cluster_steps(ctx, layer), cluster_additions.step(layer)], *prd_lane),
        FuncStep("gitea.seed", "seed Gitea: admin, token, org, teams, repos, branch protection, OAuth app",
                 lambda c: gitea_seeded(c, exec_in_gitea, content_root=delivery.workspace(c)),
                 lambda c: seed_gitea(c, exec_in_gitea, content_root=delivery.workspace(c))),
        *offline_image,
        *offline_chart,
        woodpecker,
        FuncStep("woodpecker.wire", "Woodpecker: sign in through Gitea, token, activate hello-api, secrets, cron",
                 woodpecker_wired, wire_woodpecker),
        secrets_step,
        *_before_final_wait(_before_bootstrap(argocd_layer.argocd_steps(layer), prd_registration),
                            [s3_users.step(), delivery.model_step(), *argocd_layer.profile_steps(layer)]),
    ]
    return stages


def _before_bootstrap(steps: list[Step], extra: list[Step]) -> list[Step]:
    """The production cluster is known to Argo CD before the root app names it (no app waits on a
    missing cluster)."""
    at = next(i for i, s in enumerate(steps) if s.name == "argocd.bootstrap")
    return [*steps[:at], *extra, *steps[at:]]


def _before_final_wait(steps: list[Step], extra: list[Step]) -> list[Step]:
    """Steps that need Argo CD's apps deploying (the first model, profiles) run before its last wait."""
    return [*steps[:-1], *extra, steps[-1]]


def cluster_steps(ctx: Context, layer: ClusterLayer) -> list[Step]:
    """The cluster layer's steps; offline, the bundle's images go into the node right after it is made."""
    from gitopslab.stack import offline_images

    steps = layer.cluster_steps()
    return offline_images.with_import(steps, layer) if ctx.cfg.offline else steps
