"""`up --profile observability` on a running core lab grows it in place: both settings guards accept
the addition, k3d publishes the new NodePorts on its load balancer, CoreDNS NodeHosts gets the new names,
and nothing is deleted or recreated. A real change next to it is still refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gitopslab.conductor import runner as orchestrator
from gitopslab.conductor.guard import lab_changes, refuse_incompatible, store_settings
from gitopslab.context import Context
from gitopslab.errors import IncompatibleChange
from gitopslab.model.config import LabConfig
from gitopslab.render import k3d as k3d_render
from gitopslab.stack import cluster_additions, cluster_settings
from gitopslab.stack.cluster_layer import ClusterLayer
from tests.fakes.cluster_lab import Lab

CORE = LabConfig(name="grow")
OBSERVED = LabConfig(name="grow", observability=True)


def _up_cluster(lab: Lab, layer: ClusterLayer) -> orchestrator.RunReport:
    report = orchestrator.run(lab.ctx, [*layer.cluster_steps(), cluster_additions.step(layer)])
    store_settings(lab.ctx)
    return report


def _node_hosts(lab: Lab) -> set[str]:
    text = lab.world.get("ConfigMap", "kube-system", "coredns")["data"]["NodeHosts"]
    return {line.strip() for line in text.splitlines() if line.strip()}


def test_turning_the_observability_profile_on_grows_the_running_cluster(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(CORE)
    _up_cluster(lab, lab.layer())
    name = lab.ctx.topo.cluster_name
    before_hosts = _node_hosts(lab)
    mark = len(lab.world.calls)

    assert not lab_changes(Context.from_config(OBSERVED))  # the lab's own settings accept the addition
    layer = lab.layer(OBSERVED)
    assert not layer.incompatible_changes()        # and so do the cluster's
    refuse_incompatible(layer.ctx, layer)
    report = _up_cluster(lab, layer)

    changing = [str(c) for c in lab.world.since(mark) if c.changes()]
    assert not [c for c in changing if "delete" in c or "create" in c], changing
    assert f"k3d cluster edit {name} --port-add 127.0.0.1:9093:30903@loadbalancer " \
           "--port-add 127.0.0.1:3001:30300@loadbalancer --port-add 127.0.0.1:9099:30909@loadbalancer" in changing
    assert [o.action for o in report.outcomes if o.name == "cluster.extend"] == ["applied"]
    # The cluster now publishes exactly what a new lab with the profile would have been made with.
    live = {p["port"] for p in lab.world.clusters[name]["config"]["ports"]}
    assert live == {p["port"] for p in k3d_render.config(lab.ctx.cfg, lab.ctx.topo, gpu=False)["ports"]}
    edge = lab.ctx.topo.edge_ip
    assert before_hosts | {f"{edge} {h}" for h in ("grafana.localhost", "prometheus.localhost",
                                                    "alertmanager.localhost")} == _node_hosts(lab)
    assert (lab.ctx.state.stored_settings() or {})["cluster"] == layer.settings()

    # A second `up` with the profile finds nothing to do.
    mark = len(lab.world.calls)
    again = _up_cluster(lab, lab.layer(OBSERVED))
    assert [str(c) for c in lab.world.since(mark) if c.changes()] == []
    assert {o.action for o in again.outcomes} == {"skipped"}


def test_a_changed_port_beside_the_profile_is_still_refused(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(CORE)
    _up_cluster(lab, lab.layer())
    changed = LabConfig(name="grow", observability=True, ports={"argocd": 8181})
    with pytest.raises(IncompatibleChange) as err:
        refuse_incompatible(Context.from_config(changed))
    assert "ports" in err.value.message
    with pytest.raises(IncompatibleChange) as err:
        refuse_incompatible(Context.from_config(changed), lab.layer(changed))
    assert "ports.argocd: 8081:30081 -> 8181:30081" in err.value.message


def test_an_unused_profiles_port_is_no_setting_of_the_lab(make_lab: Callable[..., Lab]) -> None:
    """Moving Grafana's port before turning the profile on needs no new lab; moving it after does."""
    lab = make_lab(CORE)
    _up_cluster(lab, lab.layer())
    refuse_incompatible(Context.from_config(LabConfig(name="grow", ports={"grafana": 3301})))
    moved = LabConfig(name="grow", observability=True, ports={"grafana": 3301})
    refuse_incompatible(Context.from_config(moved))
    layer = lab.layer(moved)
    _up_cluster(lab, layer)
    assert "127.0.0.1:3301:30300" in {p["port"] for p in lab.world.clusters[lab.ctx.topo.cluster_name]["config"]["ports"]}
    with pytest.raises(IncompatibleChange):
        refuse_incompatible(Context.from_config(LabConfig(name="grow", observability=True, ports={"grafana": 3302})))


def test_additions_are_only_additions() -> None:
    stored = {"cluster": "c", "ports": {"argocd": "8081:30081"}, "host_aliases": {"10.0.0.20": ["a.localhost"]}}
    grown = {"cluster": "c", "ports": {"argocd": "8081:30081", "grafana": "3001:30300"},
             "host_aliases": {"10.0.0.20": ["a.localhost", "g.localhost"]}}
    found = cluster_settings.additions(stored, grown)
    assert found == cluster_settings.Addition({"grafana": "3001:30300"}, {"10.0.0.20": ["g.localhost"]})
    assert cluster_settings.additions(grown, stored) is None                       # a profile turned off
    assert cluster_settings.additions(stored, {**grown, "cluster": "other"}) is None
    assert cluster_settings.additions(stored, {**grown, "ports": {"argocd": "8181:30081"}}) is None
    assert not cluster_settings.additions(stored, stored)


def test_a_lab_seeded_online_refuses_to_run_offline_and_names_the_recreate_command(
        make_lab: Callable[..., Lab]) -> None:
    """Its repos read PyPI and the chart's upstream; the other way round is fine (Gitea keeps serving)."""
    from gitopslab.conductor.guard import recreate_command

    lab = make_lab(CORE)
    _up_cluster(lab, lab.layer())
    offline = Context.from_config(LabConfig(name="grow", offline=True))
    assert lab_changes(offline) == ["offline: false -> true (Gitea's repos were seeded to read Python packages "
                                    "and the observability chart from the internet)"]
    with pytest.raises(IncompatibleChange) as caught:
        refuse_incompatible(offline)
    assert recreate_command(offline) in (caught.value.hint or "")
    assert recreate_command(offline).endswith("gitopslab up --name grow --offline")
    settings_before = lab.ctx.state.settings_file.read_bytes()

    again = Context.from_config(CORE)  # the refusal changed nothing: online still runs
    assert lab_changes(again) == [] and lab.ctx.state.settings_file.read_bytes() == settings_before


def test_a_lab_seeded_offline_may_later_run_online(make_lab: Callable[..., Lab]) -> None:
    seeded_offline = LabConfig(name="grow", offline=True)
    lab = make_lab(seeded_offline)
    store_settings(lab.ctx)
    online = Context.from_config(CORE)
    assert lab_changes(online) == []
    store_settings(online)  # an online `up` keeps the seeding's mode on record
    assert lab_changes(Context.from_config(seeded_offline)) == []
