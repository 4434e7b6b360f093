"""Issue 11 item 7: the lab's names for pods come from `coredns-custom` (k3s imports its `*.server`
keys and never rewrites it), not only from NodeHosts, which k3s rewrites when a node restarts."""

from __future__ import annotations

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render.names import COREDNS_SERVER_KEY, coredns_custom, render_coredns_server


def test_every_lab_name_is_its_own_zone_answered_by_hosts():
    topo = build(LabConfig(observability=True, hostnames={"gitea": "git.lab.localhost"}))
    text = render_coredns_server(topo)
    zones = text.splitlines()[0].removesuffix(" {").split()
    expected = {name: ip for ip, names in topo.pod_host_aliases().items() for name in names}
    assert sorted(zones) == sorted(f"{name}:53" for name in expected) and len(expected) == 11
    for name, ip in expected.items():
        assert f"        {ip} {name}\n" in text
    assert text.count("{") == text.count("}") == 2  # one server block holding one hosts block
    assert "git.lab.localhost:53" in zones and "gitea.localhost:53" not in zones


def test_the_configmap_is_the_one_k3s_mounts_and_imports():
    cm = coredns_custom(build(LabConfig(name="demo")))
    assert (cm["kind"], cm["metadata"]["name"], cm["metadata"]["namespace"]) == \
        ("ConfigMap", "coredns-custom", "kube-system")
    # k3s's Corefile: `import /etc/coredns/custom/*.server` (a server block of its own)
    assert list(cm["data"]) == [COREDNS_SERVER_KEY] and COREDNS_SERVER_KEY.endswith(".server")
    assert cm["metadata"]["labels"] == {"io.gitopslab.lab": "demo"}
