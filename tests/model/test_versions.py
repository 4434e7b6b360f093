"""versions.py: every pin names the upstream release it is, as data (not a comment to scan), and the pins
that upstream only publishes from some release on are at or past it."""

from __future__ import annotations

import re

from gitopslab.model import versions
from gitopslab.model.versions import IMAGE_PINS, IMAGES, REAL_STACK, RELEASES, TOOLS

_NUMBERS = re.compile(r"\d+(?:\.\d+)+")


def _version_in(tag: str) -> str:
    """The release number a tag carries (`v3.17.2-full` -> 3.17.2), or the whole tag when it has none
    (`RELEASE.2026-09-16T00-00-00Z`)."""
    match = _NUMBERS.search(tag)
    return match.group(0) if match else tag


def _tag(ref: str) -> str:
    return ref.rsplit(":", 1)[1]


def test_images_stays_a_plain_role_to_reference_mapping() -> None:
    assert {role: pin.ref for role, pin in IMAGE_PINS.items()} == IMAGES
    assert all(isinstance(role, str) and isinstance(ref, str) for role, ref in IMAGES.items())


def test_every_image_is_pinned_to_a_named_upstream_release() -> None:
    for role, pin in IMAGE_PINS.items():
        name, _, tag = pin.ref.rpartition(":")
        assert "/" in name and tag and tag != "latest", f"{role}: {pin.ref} is not a pinned tag"
        assert "release" in pin.release or "image" in pin.release, f"{role}: {pin.release!r} names no release"
        assert _version_in(tag) in pin.release, f"{role}: the note {pin.release!r} does not name {tag}"


def test_every_other_pin_names_its_release() -> None:
    pins = {name: getattr(versions, name) for name in dir(versions)
            if name.endswith(("_VERSION", "_CHART")) or name == "DOCKERFILE_FRONTEND"}
    assert set(RELEASES) == set(pins), "a pin without a release note, or a note for no pin"
    for name, value in pins.items():
        version = value[1] if isinstance(value, tuple) else _tag(value) if ":" in value else value
        assert _version_in(version.lstrip("v")) in RELEASES[name], f"{name}: {RELEASES[name]!r} vs {version}"


def test_every_tool_names_its_release() -> None:
    for name, tool in TOOLS.items():
        assert f"v{tool.version}" in tool.release, f"{name}: {tool.release!r} does not name v{tool.version}"


def test_programs_built_from_source_are_the_releases_their_images_pin() -> None:
    packed = {name: program for name, program in REAL_STACK.items() if name in IMAGES}  # the rest run on the host
    assert set(packed) >= {"gitea", "registry", "trivy"}
    for role, program in packed.items():
        assert _version_in(_tag(IMAGES[role])) == program.version.lstrip("v"), role


def test_mlflow_full_variant_is_one_upstream_publishes() -> None:
    # mlflow docker/README.md: "The `-full` image variant is only available starting from MLflow v3.9.0".
    tag = _tag(IMAGES["mlflow"])
    if tag.endswith("-full"):
        major, minor, _ = (int(n) for n in _version_in(tag).split("."))
        assert (major, minor) >= (3, 9), f"{tag}: no -full image before v3.9.0 (mlflow#20196: manifest unknown)"


def test_mlflow_server_is_the_pipelines_client_version() -> None:
    from gitopslab.render.pipelines import template_dir

    pinned = re.search(r"^mlflow-skinny==(\S+)$", (template_dir() / "requirements-train.txt").read_text(), re.M)
    assert pinned is not None
    assert _version_in(_tag(IMAGES["mlflow"])) == pinned.group(1), "the server image and the training client differ"


def test_kserve_pins_are_one_release() -> None:
    # Issue 27: the controller built from the source archive, the images the charts name and the charts
    # themselves are all the KServe release the archive is; the image tags follow the chart appVersion.
    from gitopslab.model.versions import KSERVE_VERSION, SOURCE_ARCHIVES

    assert SOURCE_ARCHIVES["kserve"].version == KSERVE_VERSION == REAL_STACK["kserve-controller"].version
    assert SOURCE_ARCHIVES["kserve"].file == f"kserve-{KSERVE_VERSION}.tar.gz"
    assert REAL_STACK["kserve-controller"].package == "cmd/manager"
    for role in ("kserve-controller", "kserve-storage-initializer", "kserve-sklearnserver"):
        assert _tag(IMAGES[role]) == KSERVE_VERSION, role
    for name in ("KSERVE_CRD_CHART", "KSERVE_RESOURCES_CHART", "KSERVE_RUNTIME_CONFIGS_CHART"):
        assert getattr(versions, name)[1] == KSERVE_VERSION, name
