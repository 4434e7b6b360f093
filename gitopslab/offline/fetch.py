"""The files a bundle carries besides images, fetched from their pinned URLs (or taken from a folder)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gitopslab.context import Context
from gitopslab.errors import LabError
from gitopslab.model.versions import ARGOCD_INSTALL_URL, K3S_IMAGES_URL, NVIDIA_DEVICE_PLUGIN_URL
from gitopslab.offline import chart, wheelhouse
from gitopslab.offline.archive import loaded_file
from gitopslab.offline.needs import ARGOCD_MANIFEST, DEVICE_PLUGIN, K3S_IMAGES, lab_needs
from gitopslab.offline.wheelhouse import WHEELHOUSE
from gitopslab.render.proxy import proxy_env

URLS = {ARGOCD_MANIFEST: ARGOCD_INSTALL_URL, K3S_IMAGES: K3S_IMAGES_URL, DEVICE_PLUGIN: NVIDIA_DEVICE_PLUGIN_URL}


@dataclass
class Files:
    folder: Path | None = None
    paths: dict[str, Path] = field(default_factory=dict)


@contextlib.contextmanager
def files_for(ctx: Context, only_compose: bool = False, source: Path | None = None) -> Iterator[Files]:
    """The bundle's files in a temporary folder: copied from `source`, else downloaded."""
    if only_compose:
        yield Files()
        return
    with tempfile.TemporaryDirectory(prefix="gitopslab-files-") as tmp:
        folder = Path(tmp)
        names = lab_needs(ctx).files
        kserve = chart.kserve_packages(ctx.cfg)
        for name in names:
            if source is not None:
                _copy(source / name, folder / name)
            elif name == WHEELHOUSE:
                wheelhouse.download(folder / name, index_url=ctx.cfg.mirrors.pypi, env=proxy_env(ctx.cfg, ctx.topo))
            elif name == chart.chart_file():
                chart.download(lambda url: _get(ctx, url), folder / name)
            elif name == chart.IMAGES_FILE:  # after the package (lab_needs lists it first)
                (folder / name).write_text(chart_image_list(ctx, folder / chart.chart_file()), encoding="utf-8")
            elif name in kserve:
                _download_chart(ctx, kserve[name], folder / name)
            else:
                (folder / name).write_bytes(_get(ctx, URLS[name]))
        yield Files(folder, {name: folder / name for name in names})


def bundled(folder: Path) -> Callable[[str], str]:
    """Offline, a pinned URL is read from the file `bundle load` put in `folder`."""
    names = {url: name for name, url in URLS.items()}

    def read(url: str) -> str:
        return loaded_file(folder, names.get(url, "?"), url).read_text(encoding="utf-8")

    return read


def _copy(src: Path, dest: Path) -> None:
    if not src.is_file():
        where = f"its pinned URL: {URLS[src.name]}" if src.name in URLS else "`gitopslab bundle save` makes it"
        raise LabError(f"--files-from: {src} does not exist",
                       hint=f"put {src.name} there ({where}) or drop --files-from")
    shutil.copyfile(src, dest)


def _get(ctx: Context, url: str) -> bytes:
    import httpx

    proxy = proxy_env(ctx.cfg, ctx.topo).get("HTTPS_PROXY") or None
    try:
        answer = httpx.get(url, follow_redirects=True, timeout=ctx.cfg.timeouts.http * 6, proxy=proxy)
        answer.raise_for_status()
    except httpx.HTTPError as exc:
        raise LabError(f"downloading {url} failed: {exc}",
                       hint="check the network/proxy, or pass --files-from DIR with the file in it") from exc
    return answer.content


def _download_chart(ctx: Context, pin: tuple[str, str, str], dest: Path) -> None:
    """A chart package from its pinned repository: an HTTP Helm repository's index, or an OCI registry."""
    if not chart.is_oci(pin[2]):
        chart.download(lambda url: _get(ctx, url), dest, pin=pin)
        return
    import httpx

    from gitopslab.offline import oci_chart

    proxy = proxy_env(ctx.cfg, ctx.topo).get("HTTPS_PROXY") or None
    with httpx.Client(timeout=ctx.cfg.timeouts.http * 6, proxy=proxy) as client:
        oci_chart.pull(client, pin[2], pin[0], pin[1], dest)


def chart_image_list(ctx: Context, package: Path) -> str:
    """The images the observability chart runs with the lab's values, one per line."""
    from gitopslab.drivers import helm
    from gitopslab.model.observability import values_path

    rendered = helm.template(package, chart.RELEASE, chart.NAMESPACE, values_path(),
                             chart.kube_version(ctx.cfg.image("k3s")))
    return "".join(f"{image}\n" for image in chart.images(rendered))
