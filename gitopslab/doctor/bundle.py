"""`gitopslab doctor --bundle FILE.tgz`: what an instructor needs to help a participant, in one file
that can be sent around, with no credential in it.

    doctor.json          the doctor's report (the same envelope as `doctor --json`)
    journal.json         the steps `up` finished
    settings.json        the stored settings and the configuration in effect (proxy credentials cut)
    versions.json        gitopslab, the pinned images and versions, the tools found and their versions
    logs/                gitopslab's own logs from the state dir (`up`'s command and HTTP log)
    compose/<svc>.log    the last lines of each container of this lab (found by the lab's label)
    cluster/             events, and the pods that are not Running/Succeeded (when a kubeconfig exists)
    MISSING.txt          what could not be collected, and why

Every text is redacted (every value in the lab's secrets file, the proxies' logins and the workshop
password from the configuration and the stored settings, and anything shaped like a credential:
errors.redact); before the archive is written every member is checked once more against those values,
and a member that still holds one stops the bundle (nothing is written) instead of leaking it.

The file is the user's only (0600), written through a new temp file (O_EXCL: a link planted at a
guessable name is never followed) and renamed over the destination, which may not be a folder nor lie
in gitopslab's state dir (where it could replace the lab's own secrets.json).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitopslab import __version__
from gitopslab.drivers import proc
from gitopslab.errors import LabError, redact
from gitopslab.model import versions
from gitopslab.model.topology import LABEL
from gitopslab.render.proxy import redact_url

LOG_TAIL = 500


def collect(ctx: Any, doctor_data: dict[str, Any], run: Callable[..., proc.Completed] = proc.run) -> dict[str, str]:
    """Member name -> text, redacted. `ctx` is gitopslab.context.Context."""
    secrets = secret_values(ctx)
    missing: list[str] = []
    members: dict[str, str] = {
        "doctor.json": _json(doctor_data),
        "journal.json": _json(ctx.state.journal()),
        "settings.json": _json(_masked({"stored": ctx.state.stored_settings(),
                                        "config": ctx.cfg.model_dump(mode="json")})),
        "versions.json": _json(_versions(run)),
    }
    for path in ctx.state.log_files():
        try:
            members[f"logs/{path.name}"] = path.read_text(encoding="utf-8", errors="replace")[-2_000_000:]
        except OSError as exc:  # a folder named like a log, or one that went away meanwhile
            missing.append(f"logs/{path.name}: {exc.strerror}")
    members |= _container_logs(ctx, run, missing)
    members |= _cluster(ctx, run, missing)
    if missing:
        members["MISSING.txt"] = "\n".join(missing) + "\n"
    return {name: redact(text, secrets) for name, text in members.items()}


def secret_values(ctx: Any) -> list[str]:
    """What the bundle must not carry: every value of the secrets file, and what the configuration and
    the stored settings hold that no secrets file may (the proxies' logins, the workshop password)."""
    values = [v for v in ctx.state.stored_secrets().values() if v]
    values += _proxy_logins(ctx.cfg.model_dump(mode="json")) + _proxy_logins(ctx.state.stored_settings() or {})
    values.append(ctx.cfg.credentials.workshop_password)
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)


def _proxy_logins(data: Any, key: str = "") -> list[str]:
    """`user:password` and `password` of every proxy URL under a key naming a proxy, any scheme or
    none; the password runs to the last "@" (it may hold one)."""
    if isinstance(data, dict):
        return [v for k, item in data.items() for v in _proxy_logins(item, str(k))]
    if isinstance(data, list):
        return [v for item in data for v in _proxy_logins(item, key)]
    if not (isinstance(data, str) and "proxy" in key.lower() and "@" in data):
        return []
    login = data.split("://", 1)[-1].rpartition("@")[0]
    return [login, login.partition(":")[2]]


def write(dest: Path, members: dict[str, str], secrets: list[str], state_dir: Path | None = None) -> None:
    """The archive at `dest`, 0600, whole or not at all. `state_dir`: gitopslab's state folder of this
    lab, whose whole state root the bundle may not be written into."""
    leaking = [name for name, text in members.items() for value in secrets if len(value) >= 4 and value in text]
    if leaking:
        raise LabError(f"support bundle not written: {', '.join(sorted(set(leaking)))} still held a credential",
                       hint="report this as a gitopslab bug; send `gitopslab doctor --json` instead")
    _refuse_destination(dest, state_dir)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)  # 0600, O_EXCL
    except OSError as exc:
        raise LabError(f"support bundle not written: cannot create a file in {dest.parent}: {exc.strerror}",
                       hint="name a file in a folder you can write, e.g. --bundle ~/gitopslab-support.tgz") from exc
    try:
        with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w:gz") as tar:
            for name, text in members.items():
                data = text.encode("utf-8", errors="replace")
                info = tarfile.TarInfo(f"gitopslab-support/{name}")
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
                tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, dest)  # a symlink at dest is replaced, never followed
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _refuse_destination(dest: Path, state_dir: Path | None) -> None:
    if dest.is_dir():
        raise LabError(f"support bundle not written: {dest} is a folder",
                       hint=f"name a file: --bundle {dest / 'gitopslab-support.tgz'}")
    if state_dir is not None:
        root = state_dir.resolve().parent
        where = dest.parent.resolve()
        if where == root or root in where.parents:
            raise LabError(f"support bundle not written: {dest} is inside gitopslab's state folder {root}, "
                           "where it could replace the lab's own files (secrets.json, the journal)",
                           hint="name a file elsewhere, e.g. --bundle ~/gitopslab-support.tgz")


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"


def _masked(data: Any) -> Any:
    """Every value under a key that names a password or token, cut: the workshop password (say) is in
    the configuration, not always in the secrets file whose values `redact` removes; and every proxy
    URL's login, whatever its scheme (render.proxy.redact_url)."""
    if isinstance(data, dict):
        return {k: ("***" if v and any(w in str(k).lower() for w in ("password", "token", "secret"))
                    else redact_url(v) if isinstance(v, str) and "proxy" in str(k).lower() else _masked(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [_masked(v) for v in data]
    return data


def _versions(run: Callable[..., proc.Completed]) -> dict[str, Any]:
    tools = {}
    for name, argv in {"docker": ["docker", "version", "--format", "{{.Server.Version}}"],
                       "podman": ["podman", "version", "--format", "{{.Version}}"],
                       "k3d": ["k3d", "version"], "kubectl": ["kubectl", "version", "--client"]}.items():
        if shutil.which(argv[0]) is None:
            tools[name] = "not on PATH"
            continue
        try:
            done = run(argv, timeout=10)
            tools[name] = (done.stdout or done.stderr).strip()[:300]
        except LabError as exc:
            tools[name] = exc.message
    return {"gitopslab": __version__, "images": versions.IMAGES, "argocd": versions.ARGOCD_VERSION, "tools": tools}


def _container_logs(ctx: Any, run: Callable[..., proc.Completed], missing: list[str]) -> dict[str, str]:
    engine = ctx.cfg.engine if ctx.cfg.engine != "auto" else ("docker" if shutil.which("docker") else "podman")
    if shutil.which(engine) is None:
        missing.append(f"compose logs: no {engine} on PATH")
        return {}
    try:
        listed = run([engine, "ps", "-a", "--filter", f"label={LABEL}={ctx.topo.lab}", "--format", "{{.Names}}"],
                     timeout=20)
    except LabError as exc:
        missing.append(f"compose logs: {exc.message}")
        return {}
    if listed.returncode != 0:
        missing.append(f"compose logs: {engine} ps failed: {listed.stderr.strip()[:200]}")
        return {}
    out = {}
    for name in listed.stdout.split():
        done = run([engine, "logs", "--tail", str(LOG_TAIL), name], timeout=20)
        out[f"compose/{name}.log"] = done.stdout + done.stderr
    return out


def _cluster(ctx: Any, run: Callable[..., proc.Completed], missing: list[str]) -> dict[str, str]:
    kubeconfig = ctx.state.kubeconfig
    if not kubeconfig.exists():
        missing.append(f"cluster: no kubeconfig at {kubeconfig} (the cluster was never created, or destroyed)")
        return {}
    if shutil.which("kubectl") is None:
        missing.append("cluster: kubectl is not on PATH")
        return {}
    base = ["kubectl", "--kubeconfig", str(kubeconfig)]
    out = {}
    for name, args in {"cluster/events.txt": ["get", "events", "-A", "--sort-by=.lastTimestamp"],
                       "cluster/pods-not-ready.txt": ["get", "pods", "-A", "-o", "wide",
                                                      "--field-selector=status.phase!=Running,status.phase!=Succeeded"],
                       "cluster/applications.txt": ["get", "applications.argoproj.io", "-A"]}.items():
        try:
            done = run([*base, *args], timeout=20)
        except LabError as exc:
            missing.append(f"{name}: {exc.message}")
            continue
        out[name] = done.stdout + (f"\n(stderr) {done.stderr}" if done.stderr.strip() else "")
    return out
