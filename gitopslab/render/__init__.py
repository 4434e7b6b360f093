"""Every generated artifact, as pure functions of configuration -> text. `gitopslab render --out DIR`
writes them so a person (and the tests) can read exactly what `up` will apply.

Secret values never appear here: with `secrets=None` each one is the placeholder `<secret:NAME>` and
a proxy's user and password are `***`; `up` renders the same text with the real values into the state
dir (mode 0700).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import Topology
from gitopslab.render import argocd, compose_env, k3d, multicluster, names, proxy, urls


def placeholder(name: str) -> str:
    return f"<secret:{name}>"


def artifacts(cfg: LabConfig, topo: Topology, secrets: Mapping[str, str] | None = None) -> dict[str, str]:
    """Relative path -> content of every artifact `up` applies."""
    if secrets is None:
        cfg = proxy.redacted(cfg)
    files = {
        "compose/lab.env": compose_env.render(cfg, topo, secrets),
        "k3d/cluster.yaml": k3d.render_config(cfg, topo),
        "k3d/registries.yaml": k3d.render_registries(topo, cfg.mirrors.registries()),
        "hosts/hosts.txt": names.render_block(topo),
        "hosts/coredns-nodehosts.txt": names.render_nodehosts(topo),
        "edge/nginx.conf": names.render_edge(topo),
        "urls.md": urls.render_table(topo),
    }
    if topo.prd_cluster_name:
        files["k3d/cluster-prd.yaml"] = k3d.render_prd_config(cfg, topo)
        files["prd/argocd-access.yaml"] = multicluster.dump_all(multicluster.prd_access(topo))
        files["argocd/cluster-prd-secret.yaml"] = multicluster.dump_all([multicluster.cluster_secret(topo)])
    files |= argocd.render(cfg, topo)  # Argo CD bootstrap objects, secret values as placeholders
    return files


def write(out: Path, files: Mapping[str, str]) -> list[Path]:
    written = []
    for rel, content in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
