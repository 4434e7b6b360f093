"""The lab behind an HTTP proxy: one NO_PROXY list for every component that reaches out.

Everything of the lab itself must bypass the proxy, in every horizon: the lab's names and subnet
(compose services, CI steps, the k3d nodes), loopback, and inside the cluster the pod and service
ranges and the in-cluster DNS suffixes (Argo CD's repo-server talking to redis, pods to Services).
"""

from __future__ import annotations

import re

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import Topology

# `scheme://user:pass@host` or `user:pass@host`: all before the last "@" (a password may hold an
# unescaped "/" or "@"; cutting too much of a proxy URL hides nothing that matters).
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?(?P<userinfo>.*)@")

# k3s's default --cluster-cidr and --service-cidr, and the suffixes of in-cluster names.
CLUSTER_RANGES = ("10.42.0.0/16", "10.43.0.0/16")
CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")


def no_proxy(cfg: LabConfig, topo: Topology) -> str:
    own = [p.strip() for p in cfg.proxy.no_proxy.split(",") if p.strip()]
    lab = ["localhost", "127.0.0.1", topo.subnet, *topo.hostnames, *CLUSTER_RANGES, *CLUSTER_SUFFIXES]
    return ",".join(dict.fromkeys(own + lab))


def proxy_env(cfg: LabConfig, topo: Topology) -> dict[str, str]:
    """HTTP(S)_PROXY and NO_PROXY, upper and lower case (tools read either); empty without a proxy."""
    proxy = cfg.proxy
    if not (proxy.http_proxy or proxy.https_proxy):
        return {}
    env = {"HTTP_PROXY": proxy.http_proxy, "HTTPS_PROXY": proxy.https_proxy, "NO_PROXY": no_proxy(cfg, topo)}
    env = {k: v for k, v in env.items() if v}
    return env | {k.lower(): v for k, v in env.items()}


def redact_url(url: str) -> str:
    """A proxy URL fit to print or to write to a 0644 file: its user and password become ***."""
    return _USERINFO.sub(lambda m: f"{m.group('scheme') or ''}***@", url, count=1)


def redacted(cfg: LabConfig) -> LabConfig:
    """The configuration with credentials cut (proxy user:pass, the workshop password): what `config`
    prints and `render` writes. Only `gitopslab creds` prints a credential."""
    proxy = cfg.proxy
    shown = proxy.model_copy(update={"http_proxy": redact_url(proxy.http_proxy),
                                     "https_proxy": redact_url(proxy.https_proxy)})
    creds = cfg.credentials.model_copy(update={"workshop_password": "***" if cfg.credentials.workshop_password
                                               else ""})
    return cfg.model_copy(update={"proxy": shown, "credentials": creds})
