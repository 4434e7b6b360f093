"""The URL table: what `up` prints, `gitopslab urls` shows and the README documents."""

from __future__ import annotations

from gitopslab.model.topology import Topology


def rows(topo: Topology) -> list[dict[str, str]]:
    out = []
    for svc in topo.services:
        where = "compose" if svc.layer == "compose" else f"cluster ({svc.namespace}, NodePort {svc.node_port})"
        out.append({"service": svc.title, "url": svc.address if svc.key == "registry" else svc.url,
                    "runs_in": where, "profile": svc.profile})
    return out


def render_table(topo: Topology) -> str:
    lines = ["| service | URL | runs in | profile |", "|---|---|---|---|"]
    lines += [f"| {r['service']} | {r['url']} | {r['runs_in']} | {r['profile']} |" for r in rows(topo)]
    return "\n".join(lines) + "\n"
