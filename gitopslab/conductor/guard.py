"""The one settings guard: a running lab refuses a change it cannot take in place (the compose side's
ports, names and network, and the cluster k3d baked in at creation), naming every change and the one
command that recreates the lab. Runs before any step changes anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitopslab.context import Context
from gitopslab.errors import IncompatibleChange

if TYPE_CHECKING:
    from gitopslab.stack.cluster_layer import ClusterLayer

# Settings a running lab cannot take in place: the cluster, its ports, names and network are baked in
# at creation (k3d ports, hostAliases, registries.yaml, Gitea's ROOT_URL in every clone URL).
# multicluster: the GitOps tree Gitea was seeded with names the clusters (render/multicluster.py), so
# a second cluster is not added to (or taken from) a running lab in place.
RECREATE_FIELDS = ("name", "ports", "hostnames", "network", "gpu", "images.k3s", "images.k3s-cuda-base",
                   "multicluster")
# Per-service settings: a profile turned on adds services, which the cluster takes in place
# (stack/cluster_additions.py); only a service both labs have must keep its port and name.
_PER_SERVICE = ("ports", "hostnames")


def _inactive_services(ctx: Context) -> tuple[set[str], set[str]]:
    """Port keys and hostnames of the services of profiles this lab does not run."""
    from gitopslab.model.topology import build

    everything = build(ctx.cfg.model_copy(update={"observability": True, "multicluster": True, "kserve": True}))
    keys = {s.key for s in ctx.topo.services}
    names = {s.hostname for s in ctx.topo.services}
    # The production cluster's API is no service, but as unused without the profile as one.
    api = set() if ctx.topo.prd_cluster_name else {("kube_api_prd", everything.prd_api_hostname)}
    return ({s.key for s in everything.services if s.key not in keys} | {k for k, _ in api},
            {s.hostname for s in everything.services if s.hostname not in names} | {n for _, n in api})


def comparable_settings(ctx: Context) -> dict[str, Any]:
    data = ctx.cfg.model_dump(mode="json")
    out: dict[str, Any] = {}
    for field in RECREATE_FIELDS:
        head, _, sub = field.partition(".")
        out[field] = data.get(head, {}).get(sub) if sub else data.get(head)
    # An unused service's port or name is no setting of this lab: changing it needs no new lab.
    keys, names = _inactive_services(ctx)
    out["ports"] = {k: v for k, v in out["ports"].items() if k not in keys}
    out["hostnames"] = {k: v for k, v in out["hostnames"].items() if v not in names}
    return out


def _changed(field: str, old: Any, new: Any) -> bool:
    if field in _PER_SERVICE and isinstance(old, dict) and isinstance(new, dict):
        return any(old[k] != new[k] for k in old.keys() & new.keys())
    return bool(old != new)


def lab_changes(ctx: Context) -> list[str]:
    """The lab's own settings that changed since it was created, as `field: old -> new`."""
    stored = (ctx.state.stored_settings() or {}).get("lab")
    if not stored:
        return []
    wanted = comparable_settings(ctx)
    changed = [k for k in RECREATE_FIELDS if k in stored and _changed(k, stored.get(k), wanted.get(k))]
    lines = [f"{k}: {_short(stored.get(k))} -> {_short(wanted.get(k))}" for k in changed]
    if "multicluster" in changed:  # most often a forgotten flag, not a wish for a new lab
        made = "with" if stored.get("multicluster") else "without"
        lines[changed.index("multicluster")] += (f" (the lab was made {made} its production cluster: "
                                                 f"{'add' if stored.get('multicluster') else 'leave off'} "
                                                 "`--profile multicluster` to keep it so)")
    # Gitea's repos keep the package index and chart repository of the mode they were seeded in: a lab
    # seeded online reads PyPI and the chart's upstream, which a room without a network cannot reach.
    # (Seeded offline, the lab's own Gitea registries keep serving when it later runs online.)
    if stored.get("seeded_offline") is False and ctx.cfg.offline:
        lines.append("offline: false -> true (Gitea's repos were seeded to read Python packages and the "
                     "observability chart from the internet)")
    return lines


def refuse_incompatible(ctx: Context, cluster: ClusterLayer | None = None) -> None:
    """Refuse a change that needs a new lab, naming what changed and the command that recreates."""
    changes = lab_changes(ctx) + (cluster.incompatible_changes() if cluster is not None else [])
    if not changes:
        return
    raise IncompatibleChange(
        f"lab {ctx.topo.lab!r} was created with other settings that cannot change in place:\n  - "
        + "\n  - ".join(changes),
        hint=f"keep the old settings, or recreate the lab (its data is deleted): {recreate_command(ctx)}",
    )


def recreate_command(ctx: Context) -> str:
    """`destroy` then `up` with every flag that shaped this lab."""
    flags = []
    if ctx.config_file:
        flags.append(f"--config {ctx.config_file}")
    if ctx.cfg.name != "gitopslab":
        flags.append(f"--name {ctx.cfg.name}")
    if ctx.cfg.gpu != "off":
        flags.append(f"--gpu {ctx.cfg.gpu}")
    flags += [f"--profile {p}" for p in ctx.cfg.profiles if p not in ("core", "gpu")]
    if ctx.cfg.offline:
        flags.append("--offline")
    destroy_flags = [f for f in flags if f.startswith(("--config", "--name"))]
    return " ".join(["gitopslab destroy --yes", *destroy_flags, "&&", "gitopslab up", *flags])


def store_settings(ctx: Context) -> None:
    data = dict(ctx.state.stored_settings() or {})  # the cluster layer keeps its own part under "cluster"
    # profiles: read by `hosts` (the names of every profile turned on; a later `up` without its flag
    # removes nothing, so the names stay wanted); not compared by the guard
    before = (data.get("lab") or {}).get("profiles") or []
    profiles = [p for p in ("core", "gpu", "observability", "multicluster", "kserve")
                if p in ctx.cfg.profiles or p in before]
    # seeded_offline: the mode of the `up` that first stored settings (it seeded Gitea); kept after that
    seeded = (data.get("lab") or {}).get("seeded_offline", ctx.cfg.offline)
    data["lab"] = {**comparable_settings(ctx), "profiles": profiles, "seeded_offline": seeded}
    ctx.state.store_settings(data)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


