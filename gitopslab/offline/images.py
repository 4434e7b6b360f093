"""Image references read from YAML: what the bundle's lists (offline/needs.py, offline/chart.py) are
made of."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml


def container_images(text: str) -> list[str]:
    """`image:` of every container, init container and pipeline step in a YAML stream."""
    found: list[str] = []
    for doc in yaml.safe_load_all(text):
        found.extend(_walk(doc))
    return list(dict.fromkeys(found))


def _walk(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        image = node.get("image")
        if isinstance(image, str):  # a chart's `image: {repository, tag}` is no container's
            yield image
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)
