"""What a running cluster can take in place: comparing the settings it was created with (stored by the
cluster layer) with the ones wanted now. Pure: the cluster layer refuses what is not an addition, and
`cluster.extend` (stack/cluster_additions.py) applies what is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_GROWING = ("ports", "host_aliases")


@dataclass(frozen=True)
class Addition:
    ports: dict[str, str] = field(default_factory=dict)        # service key -> "hostport:nodeport"
    names: dict[str, list[str]] = field(default_factory=dict)  # ip -> names new to that ip

    def __bool__(self) -> bool:
        return bool(self.ports or self.names)


def additions(stored: dict[str, Any], wanted: dict[str, Any]) -> Addition | None:
    """None unless `wanted` equals `stored` except for ports and names that are only added."""
    if any(stored.get(k) != wanted.get(k) for k in set(stored) | set(wanted) if k not in _GROWING):
        return None
    old_ports, new_ports = stored.get("ports") or {}, wanted.get("ports") or {}
    if any(new_ports.get(key) != value for key, value in old_ports.items()):
        return None
    old_names, new_names = stored.get("host_aliases") or {}, wanted.get("host_aliases") or {}
    if any(not set(names) <= set(new_names.get(ip, [])) for ip, names in old_names.items()):
        return None
    names = {ip: sorted(set(ns) - set(old_names.get(ip, []))) for ip, ns in new_names.items()}
    return Addition(ports={k: v for k, v in new_ports.items() if k not in old_ports},
                    names={ip: ns for ip, ns in names.items() if ns})
