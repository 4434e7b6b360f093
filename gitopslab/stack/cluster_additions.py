"""Growing a running cluster in place: turning a profile on (`up --profile observability` on a lab
made without it) adds NodePorts and lab names to the cluster and changes nothing it already has, so it
needs no new cluster.

    additions(stored, wanted)   what `wanted` adds to the stored cluster settings, when adding is all it
                                does (new ports, new names); None when anything else changed or went away
    step(layer)                 `cluster.extend`: k3d publishes the new ports on its load balancer
                                (`k3d cluster edit --port-add`), CoreDNS NodeHosts gets the new names,
                                and the stored settings follow

Anything else (a changed port, subnet, image, a profile turned off) stays refused by the cluster layer
with the recreate command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from gitopslab.errors import LabError
from gitopslab.stack.cluster_settings import Addition, additions
from gitopslab.stack.step import FuncStep, Step

if TYPE_CHECKING:
    from gitopslab.stack.cluster_layer import ClusterLayer

NODE_HOSTS = ("configmap", "coredns", "kube-system", "NodeHosts")
def _stored(layer: ClusterLayer) -> dict[str, Any] | None:
    stored = (layer.ctx.state.stored_settings() or {}).get("cluster")
    return dict(stored) if stored else None


def _pending(layer: ClusterLayer) -> Addition:
    stored = _stored(layer)
    # No stored settings: a lab from before they were kept; record them, there is nothing to compare.
    return (additions(stored, layer.settings()) or Addition()) if stored else Addition()


def _done(layer: ClusterLayer) -> bool:
    return _stored(layer) is not None and not _pending(layer)


def _add_ports(layer: ClusterLayer, ports: dict[str, str]) -> None:
    if not ports:
        return
    args = ["cluster", "edit", layer.name]
    for key in sorted(ports):
        host_port, node_port = ports[key].split(":")
        args += ["--port-add", f"127.0.0.1:{host_port}:{node_port}@loadbalancer"]
    layer.k3d.run(*args)


def _add_names(layer: ClusterLayer, names: dict[str, list[str]]) -> None:
    """k3d wrote the lab's names into NodeHosts at create; append the new ones the same way."""
    if not names:
        return
    kind, name, namespace, key = NODE_HOSTS
    kube = layer.kubectl()
    live = kube.exists(kind, name, namespace)
    if live is None:
        raise LabError(f"the cluster has no {namespace}/{name} ConfigMap to add the lab's names to",
                       hint="check CoreDNS: kubectl -n kube-system get configmap coredns; "
                            "or recreate the lab: gitopslab destroy --yes && gitopslab up")
    text = str((live.get("data") or {}).get(key) or "")
    present = {tuple(line.split()[:2]) for line in text.splitlines() if len(line.split()) >= 2}
    lines = [f"{ip} {n}" for ip, ns in sorted(names.items()) for n in ns if (ip, n) not in present]
    if not lines:
        return
    body = (text if not text or text.endswith("\n") else text + "\n") + "\n".join(lines) + "\n"
    patch = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
             "data": {key: body}}
    kube.apply(stdin=yaml.safe_dump(patch, sort_keys=False), force_conflicts=True)


def extend(layer: ClusterLayer) -> None:
    pending = _pending(layer)
    _add_ports(layer, pending.ports)
    _add_names(layer, pending.names)
    data = dict(layer.ctx.state.stored_settings() or {})
    data["cluster"] = layer.settings()
    layer.ctx.state.store_settings(data)


def step(layer: ClusterLayer) -> Step:
    return FuncStep("cluster.extend", "cluster grown in place for new profiles (NodePorts, lab names)",
                    lambda c: _done(layer), lambda c: extend(layer))
