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
