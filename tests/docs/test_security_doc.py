"""docs/SECURITY.md stays true: every test it names exists (a promise without its test is a hole)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def test_every_test_named_in_security_md_exists() -> None:
    text = (REPO / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    named = NAMED.findall(text)
    assert len(named) >= 20, "docs/SECURITY.md names too few tests; its table lost its rows?"
    missing = [f"{path}::{name}" for path, name in named
               if not (REPO / path).is_file()
               or not re.search(rf"^def {name}\(", (REPO / path).read_text(encoding="utf-8"), re.M)]
    assert not missing, f"docs/SECURITY.md names tests that do not exist: {missing}"


def test_every_row_names_a_test() -> None:
    rows = [line for line in (REPO / "docs" / "SECURITY.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and not line.startswith("| promise")]
    assert rows and all(NAMED.search(row) for row in rows), [r[:80] for r in rows if not NAMED.search(r)]
