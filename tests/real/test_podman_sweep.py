"""The label sweep tests/support/compose_lab.py runs after a Docker lab, run on the real Podman through
the podman CLI (tests/real/podman_fixtures.remove_podman_lab's last step): what carries the lab's label
is found and removed, and an object of another lab is left alone."""

from __future__ import annotations

import uuid

import pytest

from gitopslab.model.topology import LABEL
from tests.real.podman_fixtures import podman, podman_engine, podman_objects  # noqa: F401  (a fixture)
from tests.support.compose_lab import force_cleanup

pytestmark = pytest.mark.engine


def test_the_sweep_removes_the_labs_podman_objects_and_only_those(podman_engine: str) -> None:  # noqa: F811
    lab, other = f"glp{uuid.uuid4().hex[:8]}", f"glp{uuid.uuid4().hex[:8]}"
    try:
        for name in (lab, other):
            podman("volume", "create", "--label", f"{LABEL}={name}", f"{name}-data")
            podman("network", "create", "--label", f"{LABEL}={name}", f"{name}-net")
        assert podman_objects(lab) == {"containers": [], "volumes": [f"{lab}-data"], "networks": [f"{lab}-net"]}
        force_cleanup(lab, podman, ("network", "rm", "-f"))
        assert podman_objects(lab) == {"containers": [], "volumes": [], "networks": []}
        assert podman_objects(other) == {"containers": [], "volumes": [f"{other}-data"], "networks": [f"{other}-net"]}
    finally:
        force_cleanup(lab, podman, ("network", "rm", "-f"))
        force_cleanup(other, podman, ("network", "rm", "-f"))
