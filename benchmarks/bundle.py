"""Classroom-mode bundle figures:

  per profile (core, gpu, observability): how many images a bundle carries and their size in the
  engine (uncompressed), counting the images present on this machine and naming how many are not
  (on a machine with internet every one is pulled; here only the forge tier's builds exist), and the
  files it carries (GITOPSLAB_BUNDLE_FILES=DIR with them counts the images they name);
  the wheelhouse every profile carries: wheels, size, download time (from PyPI, as `bundle save`);
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
from gitopslab.offline import wheelhouse  # noqa: E402
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


def per_profile(files: Path | None) -> None:
    """`files`: a folder with the bundle's files (`bundle save` fetched them; GITOPSLAB_BUNDLE_FILES), so
    the images read from them (Argo CD's, k3s's, the observability chart's) count too."""
    for profile, settings in PROFILES.items():
        cfg = load_config(None, environ={}, flags=settings)
        needs = lab_needs(Context(cfg=cfg, topo=build(cfg), state=LabState(cfg.name)), files)
        sizes = {ref: image_size(ref) for ref in needs.images}
        here = [s for s in sizes.values() if s is not None]
        from_files = "" if files else " (+ the images named in its files: set GITOPSLAB_BUNDLE_FILES)"
        print(f"profile {profile:<13} {len(sizes)} images{from_files}; files {', '.join(needs.files)}; "
              f"{len(here)} images here, {sum(here) / 2**20:.0f} MiB uncompressed; {len(sizes) - len(here)} not here")


def wheelhouse_size(tmp: Path) -> None:
    """Every profile carries the pipelines' wheels: downloaded from PyPI as `bundle save` does."""
    started = time.monotonic()
    names = wheelhouse.download(tmp / wheelhouse.WHEELHOUSE)
    size = (tmp / wheelhouse.WHEELHOUSE).stat().st_size
    print(f"wheelhouse (every profile): {len(names)} wheels for {len(wheelhouse.PLATFORMS)} architectures, "
          f"{size / 2**20:.0f} MiB; downloaded in {time.monotonic() - started:.0f} s")


def compose_bundle(tmp: Path) -> None:
    """The compose services' bundle, every role's pinned image that was not built here stood in for (the
    real-stack builds give Gitea, the registry, trivy, python, alpine/git; Woodpecker's and kaniko's
    modules are not served here, and the edge's image is pulled)."""
    from gitopslab.model.components import COMPONENTS
    from gitopslab.model.versions import IMAGES

    roles = {r for _, role, others in COMPONENTS.values() for r in (role, *others)}
    images = {role: STAND_IN for role in sorted(roles) if image_size(IMAGES[role]) is None}
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
    files = os.environ.get("GITOPSLAB_BUNDLE_FILES")
    per_profile(Path(files) if files else None)
    with tempfile.TemporaryDirectory(prefix="gitopslab-bench-bundle-") as tmp:
        os.environ.setdefault("GITOPSLAB_STATE_DIR", str(Path(tmp) / "state"))
        wheelhouse_size(Path(tmp))
        compose_bundle(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
