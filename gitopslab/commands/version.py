"""`gitopslab version`: gitopslab's version and every version it pins."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    return None


def run(args: argparse.Namespace) -> int:
    from gitopslab import __version__
    from gitopslab.model import versions
    from gitopslab.ui import console, print_json

    data = {
        "gitopslab": __version__,
        "images": versions.IMAGES,
        "manifests": {"argocd": versions.ARGOCD_INSTALL_URL,
                      "nvidia-device-plugin": versions.NVIDIA_DEVICE_PLUGIN_URL},
        "charts": {"headlamp": versions.HEADLAMP_CHART[1],
                   "kube-prometheus-stack": versions.KUBE_PROMETHEUS_STACK_CHART[1]},
        "tools": {name: pin.version for name, pin in versions.TOOLS.items()},
    }
    if getattr(args, "json", False):
        print_json("version", data)
        return 0
    out = console()
    out.print(f"gitopslab {__version__}", markup=False)
    sections = ("images", "manifests", "charts", "tools")
    width = max(len(name) for section in sections for name in data[section])  # type: ignore[attr-defined]
    for section in sections:
        out.print(f"{section}:", markup=False)
        for name, value in data[section].items():  # type: ignore[attr-defined]
            out.print(f"  {name:<{width}} {value}", markup=False)
    out.print("the images a lab pulls (k3d's, Argo CD's, k3s's and the GitOps tree's too): gitopslab bundle list",
              markup=False, style="dim")
    return 0
