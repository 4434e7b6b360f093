"""`gitopslab --help` imports no heavy library and no verb's module but the one it runs: the cost of
`--help` is what argparse needs (issue 23, item 7; the time itself is a figure: benchmarks/cli_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

# heavy libraries, and the standard ones `--help` has no use for (shutil pulls in bz2 and lzma)
HEAVY = {"httpx", "yaml", "python_on_whales", "jsonschema", "pydantic", "rich", "tenacity", "shutil", "pathlib"}

PROBE = """
import json, sys
sys.argv = ["gitopslab", ARGV]
before = set(sys.modules)
from gitopslab import cli
try:
    cli.main(sys.argv[1:])
except SystemExit:
    pass
loaded = sorted(set(sys.modules) - before)
sys.__stderr__.write(json.dumps(loaded))
"""


def loaded_by(*argv: str) -> set[str]:
    # what gitopslab adds to what the interpreter and the probe (json) loaded before it
    code = PROBE.replace("ARGV", ", ".join(repr(a) for a in argv))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return {name.split(".")[0] if not name.startswith("gitopslab") else name
            for name in json.loads(proc.stderr.strip().splitlines()[-1])}


def test_help_imports_no_heavy_module_and_no_verb() -> None:
    loaded = loaded_by("--help")
    assert not loaded & HEAVY, sorted(loaded & HEAVY)
    assert not [m for m in loaded if m.startswith("gitopslab.commands")], sorted(loaded)


def test_a_verbs_help_imports_that_verb_only() -> None:
    loaded = loaded_by("urls", "--help")
    verbs = {m for m in loaded if m.startswith("gitopslab.commands.") and not m.endswith("._options")}
    assert verbs == {"gitopslab.commands.urls"}
    assert not loaded & HEAVY, sorted(loaded & HEAVY)
