"""The URL table: what `up` prints, `gitopslab urls` shows and the README documents."""

from __future__ import annotations

from gitopslab.topology import Topology


def rows(topo: Topology) -> list[dict[str, str]]:
    out = []
    for svc in topo.services:
        if not svc.browsable and svc.key != "registry":
            continue
        where = "compose" if svc.layer == "compose" else f"cluster ({svc.namespace}, NodePort {svc.node_port})"
        out.append({"service": svc.title, "url": svc.url if svc.browsable else svc.address,
                    "runs_in": where, "profile": svc.profile})
    return out


def render_table(topo: Topology) -> str:
    lines = ["| service | URL | runs in |", "|---|---|---|"]
    lines += [f"| {r['service']} | {r['url']} | {r['runs_in']} |" for r in rows(topo)]
    return "\n".join(lines) + "\n"
