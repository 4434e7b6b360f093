"""Issue 27: `--profile kserve` turns the kserve profile on; its port (models.localhost) is checked for clashes
only when the profile is on, like the observability profile's."""

from __future__ import annotations

import pytest

from gitopslab.errors import ConfigError
from gitopslab.model.config import apply_profile, load_config


def test_profile_kserve_is_a_profile() -> None:
    flags: dict[str, object] = {}
    apply_profile(flags, "kserve")
    cfg = load_config(None, {}, flags)
    assert cfg.kserve is True and cfg.profiles == ["core", "kserve"]
    assert (cfg.ports.models, cfg.hostnames.models) == (8095, "models.localhost")
    assert load_config(None, {"GITOPSLAB_KSERVE": "true"}, {}).profiles == ["core", "kserve"]


def test_the_model_port_clashes_only_when_the_profile_is_on() -> None:
    assert load_config(None, {"GITOPSLAB_PORTS__MODELS": "3000"}, {}).kserve is False
    with pytest.raises(ConfigError) as err:
        load_config(None, {"GITOPSLAB_PORTS__MODELS": "3000"}, {"kserve": True})
    assert "ports.models and ports.gitea are both 3000" in str(err.value)


def test_the_model_endpoint_is_one_url_in_every_horizon() -> None:
    from gitopslab.model.topology import build

    assert "models" not in {s.key for s in build(load_config(None, {}, {})).services}
    topo = build(load_config(None, {}, {"kserve": True}))
    models = topo.service("models")
    assert models.url == "http://models.localhost:8095" and models.profile == "kserve"
    # The NodePort Service the GitOps tree ships (clusters/ml-dev/models/service.yaml), forwarded by the edge.
    assert (models.namespace, models.k8s_service, models.node_port) == ("ml-dev", "iris-models", 30980)
    assert (8095, "node:30980") in topo.edge_routes("node")
    assert "models.localhost" in topo.pod_host_aliases()[topo.edge_ip] and "models.localhost" in topo.hostnames
