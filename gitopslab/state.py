"""Per-lab state: `$XDG_STATE_HOME/gitopslab/<lab>/` (or `GITOPSLAB_STATE_DIR/<lab>`).

    secrets.json    random credentials, generated once, mode 0600 (only `gitopslab creds` prints them)
    journal.json    finished steps, so an interrupted `up` resumes
    settings.json   the settings a lab was created with; an incompatible change is refused
    lock            held by one `up`/`down`/`destroy` at a time (holds the PID)
    kubeconfig      the cluster's kubeconfig (the user's ~/.kube/config is changed only on request)
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets as _random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gitopslab.errors import LabError, LockedError

# Names of the generated credentials, and how long each is.
SECRET_SPECS: dict[str, int] = {
    "gitea_admin_password": 24,
    "woodpecker_agent_secret": 48,
    "minio_root_password": 24,
    "argocd_webhook_secret": 32,
    "grafana_admin_password": 24,
}
SECRET_CONSTANTS: dict[str, str] = {"minio_root_user": "gitopslab-minio"}


def state_root(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("GITOPSLAB_STATE_DIR"):
        return Path(env["GITOPSLAB_STATE_DIR"])
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "gitopslab" / "state"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "gitopslab" / "state"
    return Path(env.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "gitopslab"


def data_root(environ: dict[str, str] | None = None) -> Path:
    """Where downloaded tools live (`gitopslab tools install`)."""
    env = os.environ if environ is None else environ
    if env.get("GITOPSLAB_DATA_DIR"):
        return Path(env["GITOPSLAB_DATA_DIR"])
    if sys.platform == "win32":
        return Path(env.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "gitopslab" / "data"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "gitopslab" / "data"
    return Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "gitopslab"


def _write_json(path: Path, data: Any, mode: int = 0o644) -> None:
    """Write atomically (temp file + rename) so an interrupted run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise LabError(
            f"state file {path} cannot be read: {exc}",
            hint=f"inspect or move it aside (it is not deleted for you): mv {path} {path}.bak",
        ) from exc


class LabState:
    def __init__(self, lab: str, root: Path | None = None) -> None:
        self.lab = lab
        self.dir = (root or state_root()) / lab

    # --- paths -----------------------------------------------------------------------------------
    @property
    def secrets_file(self) -> Path:
        return self.dir / "secrets.json"

    @property
    def journal_file(self) -> Path:
        return self.dir / "journal.json"

    @property
    def settings_file(self) -> Path:
        return self.dir / "settings.json"

    @property
    def lock_file(self) -> Path:
        return self.dir / "lock"

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig"

    def exists(self) -> bool:
        return self.dir.is_dir()

    # --- secrets ---------------------------------------------------------------------------------
    def secrets(self) -> dict[str, str]:
        """All credentials, generating the missing ones once. The file is always mode 0600."""
        current: dict[str, str] = _read_json(self.secrets_file, {})
        wanted = dict(current)
        for name, length in SECRET_SPECS.items():
            wanted.setdefault(name, _random.token_urlsafe(length)[:length])
        for name, value in SECRET_CONSTANTS.items():
            wanted.setdefault(name, value)
        if wanted != current or not self.secrets_file.exists():
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            _write_json(self.secrets_file, wanted, mode=0o600)
        return wanted

    def secret(self, name: str) -> str:
        return self.secrets()[name]

    def put_secret(self, name: str, value: str) -> None:
        """Store a credential learnt from a service (an API token, Argo CD's admin password)."""
        data = self.secrets()
        if data.get(name) != value:
            data[name] = value
            _write_json(self.secrets_file, data, mode=0o600)

    def forget_secret(self, name: str) -> None:
        data = self.secrets()
        if data.pop(name, None) is not None:
            _write_json(self.secrets_file, data, mode=0o600)

    # --- journal ---------------------------------------------------------------------------------
    def journal(self) -> dict[str, float]:
        return dict(_read_json(self.journal_file, {}))

    def mark_done(self, step: str) -> None:
        data = self.journal()
        data[step] = time.time()
        _write_json(self.journal_file, data)

    def is_done(self, step: str) -> bool:
        return step in self.journal()

    def reset_journal(self, steps: list[str] | None = None) -> None:
        data = {} if steps is None else {k: v for k, v in self.journal().items() if k not in steps}
        _write_json(self.journal_file, data)

    # --- stored settings -------------------------------------------------------------------------
    def stored_settings(self) -> dict[str, Any] | None:
        data = _read_json(self.settings_file, None)
        return data if isinstance(data, dict) else None

    def store_settings(self, settings: dict[str, Any]) -> None:
        _write_json(self.settings_file, settings)

    # --- lock ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, verb: str) -> Iterator[None]:
        """One `up`/`down`/`destroy` per lab. A lock left by a dead process is taken over."""
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        for _ in range(2):
            try:
                fd = os.open(self.lock_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self._lock_holder()
                if holder and _pid_alive(holder[0]):
                    raise LockedError(
                        f"lab {self.lab!r} is busy: `gitopslab {holder[1]}` is running as PID {holder[0]}",
                        hint=f"wait for it to finish, or stop it (kill {holder[0]}) and run again",
                    ) from None
                self.lock_file.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()} {verb}\n")
            break
        else:  # pragma: no cover - two stale-lock races in a row
            raise LockedError(f"could not take the lock {self.lock_file}", hint="run again")
        try:
            yield
        finally:
            self.lock_file.unlink(missing_ok=True)

    def _lock_holder(self) -> tuple[int, str] | None:
        try:
            pid, _, verb = self.lock_file.read_text().strip().partition(" ")
            return int(pid), verb or "up"
        except (OSError, ValueError):
            return None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process there
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # type: ignore[attr-defined]
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)  # type: ignore[attr-defined]
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
