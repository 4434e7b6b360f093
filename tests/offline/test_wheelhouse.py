"""The wheelhouse: the pipelines' Python packages for a room without PyPI, for the step image's Python
on both Linux architectures, in one tar the bundle carries (and `up --offline` uploads to Gitea)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab.errors import LabError
from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.offline import wheelhouse
from gitopslab.render.pipelines import pip_index, render_template, template_dir
from tests.fakes.wheels import make_wheelhouse


@pytest.mark.parametrize("arch", sorted(wheelhouse.PLATFORMS))
def test_every_shipped_requirement_has_a_wheel_for_the_step_image_on(arch: str, tmp_path: Path) -> None:
    """Resolved against PyPI with the flags `bundle save` downloads with (no wheel is fetched)."""
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
                           "--disable-pip-version-check", "--target", str(tmp_path / "t"), "--report", str(report),
                           *wheelhouse.selection(arch), "-r", str(template_dir() / wheelhouse.REQUIREMENTS)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {i["metadata"]["name"].lower() for i in json.loads(report.read_text())["install"]}
    assert {"numpy", "scikit-learn", "mlflow-skinny", "uvicorn", "pytest"} <= names
    assert wheelhouse.python_version() == "3.12"  # the step image's, from its pin


def test_download_puts_each_architectures_wheels_in_one_tar(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("six==1.17.0\nmarkupsafe==3.0.2\n")
    names = wheelhouse.download(tmp_path / wheelhouse.WHEELHOUSE, requirements=req)
    assert "six-1.17.0-py2.py3-none-any.whl" in names  # a pure wheel, once
    binary = [n for n in names if n.startswith("MarkupSafe-3.0.2-cp312-cp312-") or n.startswith("markupsafe-3.0.2-cp312")]
    assert any("x86_64" in n for n in binary) and any("aarch64" in n for n in binary), names
    assert [name for name, _ in wheelhouse.wheels(tmp_path / wheelhouse.WHEELHOUSE)] == names


def test_a_failed_download_names_the_architecture_and_pips_words(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("no-such-package-of-gitopslab==0.0.1\n")
    with pytest.raises(LabError) as caught:
        wheelhouse.download(tmp_path / "w.tar", requirements=req)
    assert "for x86_64 failed" in caught.value.message and "no-such-package-of-gitopslab" in caught.value.message
    assert "bundle save" in (caught.value.hint or "")


@pytest.mark.parametrize("member", ["../evil.whl", "notes.txt", "sub/dir-1.0-py3-none-any.whl"])
def test_a_wheelhouse_member_that_is_not_a_plain_wheel_is_refused(member: str, tmp_path: Path) -> None:
    path = tmp_path / "w.tar"
    make_wheelhouse(path, {"good-1.0-py3-none-any.whl": b"x", member: b"y"})
    with pytest.raises(LabError) as caught:
        list(wheelhouse.wheels(path))
    assert repr(member) in caught.value.message


def test_wheel_names_give_the_distribution_and_version() -> None:
    assert wheelhouse.name_and_version("scikit_learn-1.9.1-cp312-cp312-manylinux_2_17_x86_64.whl") == \
        ("scikit_learn", "1.9.1")
    assert wheelhouse.name_and_version("six-1.17.0-py2.py3-none-any.whl") == ("six", "1.17.0")


def test_offline_every_pip_of_the_lab_reads_the_labs_gitea(tmp_path: Path) -> None:
    from gitopslab.render.compose_env import values

    offline = LabConfig(offline=True)
    topo = build(offline)
    index = pip_index(offline, topo)
    assert index == "http://gitea.localhost:3000/api/packages/platform/pypi/simple/"
    deliver = (render_template(offline, topo, tmp_path / "h") / ".woodpecker" / "deliver.yaml").read_text()
    assert f'"PIP_INDEX_URL={index}"' in deliver and '"PIP_TRUSTED_HOST=gitea.localhost"' in deliver
    assert index in values(offline, topo, None, "", "/var/run/docker.sock")["WOODPECKER_ENVIRONMENT"]
    assert pip_index(LabConfig(), build(LabConfig())) == ""  # online: PyPI (or the room's mirror)


def test_the_index_path_names_the_seeded_org() -> None:
    from gitopslab.render.pipelines import LAB_PYPI_PATH
    from gitopslab.stack.gitea.rbac import ORG

    assert f"/api/packages/{ORG}/pypi/simple/" == LAB_PYPI_PATH
