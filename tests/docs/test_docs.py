"""The README and docs stay true to the code: the URL table and every setting."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from gitopslab.model.config import LabConfig, load_config
from gitopslab.model.topology import build
from gitopslab.render.urls import render_table

REPO = Path(__file__).resolve().parents[2]


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _fields(ann, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


def test_readme_url_table_is_the_rendered_one() -> None:
    table = render_table(build(load_config(None, {}, {"observability": True})))
    assert table in (REPO / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    text = (REPO / "docs" / "CONFIGURATION.md").read_text()
    missing = [f for f in _fields(LabConfig) if f"`{f}`" not in text]
    assert not missing, f"docs/CONFIGURATION.md lacks: {missing}"


def test_readme_shows_the_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    assert "./start.sh" in text and "./scripts/test.sh" in text
    for doc in ("INSTALLATION", "CONFIGURATION", "ARCHITECTURE", "LIFECYCLE", "HEALTH_CHECKS", "SCRIPTS"):
        assert f"docs/{doc}.md" in text
