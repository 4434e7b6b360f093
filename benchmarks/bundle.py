"""Classroom-mode bundle figures:

  per profile (core, gpu, observability): how many images a bundle carries and their size in the
  engine (uncompressed), counting the images present on this machine and naming how many are not
  (on a machine with internet every one is pulled; here only the forge tier's builds exist);
  for the compose services' bundle (built from the forge tier's real Gitea and registry images):
  `bundle save` time and file size (plain tar and .tgz), and `bundle load` time into an empty second
  engine (tests/real/fresh_engine.py).

Run: PYTHONPATH=$PWD python benchmarks/bundle.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gitopslab import cli  # noqa: E402
from gitopslab.context import Context  # noqa: E402
from gitopslab.model.config import load_config  # noqa: E402
from gitopslab.model.topology import build  # noqa: E402
from gitopslab.offline.needs import lab_needs  # noqa: E402
from gitopslab.state import LabState  # noqa: E402
from tests.real.conftest import BUILD  # noqa: E402
from tests.real.fresh_engine import FreshEngine  # noqa: E402
from tests.real.test_offline_bundle import STAND_IN  # noqa: E402
from tests.support.compose_lab import lab_settings, write_config  # noqa: E402

PROFILES = {"core": {}, "gpu": {"gpu": "on"}, "observability": {"observability": True}}


def image_size(ref: str) -> int | None:
    done = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", ref], capture_output=True, text=True)
    return int(done.stdout.strip()) if done.returncode == 0 else None


def per_profile() -> None:
    for profile, settings in PROFILES.items():
        cfg = load_config(None, environ={}, flags=settings)
        needs = lab_needs(Context(cfg=cfg, topo=build(cfg), state=LabState(cfg.name)))
        sizes = {ref: image_size(ref) for ref in needs.images}
        here = [s for s in sizes.values() if s is not None]
        print(f"profile {profile:<13} {len(sizes)} images (+ Argo CD's and k3s's from their files); "
              f"{len(here)} here, {sum(here) / 2**20:.0f} MiB uncompressed; {len(sizes) - len(here)} not here")


def compose_bundle(tmp: Path) -> None:
    images = {role: STAND_IN for role in ("woodpecker-server", "woodpecker-agent", "edge")}
    config = write_config(tmp / "gitopslab.yaml", lab_settings("glbench", images))
    for name in ("compose.tar", "compose.tgz"):
        started = time.monotonic()
        code = cli.main(["bundle", "save", str(tmp / name), "--only", "compose", "--no-pull", "--config", str(config)])
        if code:
            raise SystemExit(f"bundle save failed ({code})")
        saved = time.monotonic() - started
        engine = FreshEngine(tmp / f"engine-{name}").start()
        try:
            os.environ["DOCKER_HOST"] = engine.host
            started = time.monotonic()
            code = cli.main(["bundle", "load", str(tmp / name), "--config", str(config)])
            loaded = time.monotonic() - started
        finally:
            os.environ.pop("DOCKER_HOST", None)
            engine.stop()
        if code:
            raise SystemExit(f"bundle load failed ({code})")
        manifest = json.loads(subprocess.run(["tar", "-xOf", str(tmp / name), "manifest.json"], capture_output=True,
                                             text=True, check=True).stdout)
        print(f"compose bundle {name}: {len(manifest['images'])} images, "
              f"{(tmp / name).stat().st_size / 2**20:.0f} MiB; save {saved:.1f} s; load into an empty engine "
              f"{loaded:.1f} s")


def main() -> int:
    if subprocess.run([sys.executable, str(BUILD), "forge"]).returncode != 0:
        return 1
    per_profile()
    with tempfile.TemporaryDirectory(prefix="gitopslab-bench-bundle-") as tmp:
        os.environ.setdefault("GITOPSLAB_STATE_DIR", str(Path(tmp) / "state"))
        compose_bundle(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
