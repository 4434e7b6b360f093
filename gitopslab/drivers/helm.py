"""`helm template`, over `proc.run`: `bundle save` renders the observability chart with the lab's values
to learn the images it runs (offline/chart.py). Only the instructor's machine needs helm, and only for
a bundle with that profile; Argo CD renders the chart itself in the lab."""

from __future__ import annotations

from pathlib import Path

from gitopslab.drivers import proc
from gitopslab.errors import LabError

TEMPLATE_TIMEOUT_S = 180
INSTALL_HINT = ("install helm 3.8 or newer (https://helm.sh/docs/intro/install/), or save the bundle without "
                "the observability profile")


def template(chart: Path, release: str, namespace: str, values: Path, kube_version: str,
             helm: str = "helm") -> str:
    """The chart's manifests as Argo CD would render them for this release. Install hooks stay (Argo CD
    runs them as sync hooks); chart tests go (a `helm.sh/hook: test` object maps to no Argo CD hook, so
    it never runs, and its image would only weigh down the bundle)."""
    argv = [helm, "template", release, str(chart), "--namespace", namespace, "--values", str(values),
            "--kube-version", kube_version, "--skip-tests"]
    try:
        done = proc.run(argv, timeout=TEMPLATE_TIMEOUT_S)
    except proc.NotFound as exc:
        raise LabError(f"`{helm}` is not installed: it renders {chart.name} to list the images it runs",
                       hint=INSTALL_HINT) from exc
    if not done.ok:
        raise LabError(f"`helm template` of {chart.name} failed: {done.last_error_line()}",
                       hint="check the chart file and the values file it names, then run `bundle save` again")
    return done.stdout
