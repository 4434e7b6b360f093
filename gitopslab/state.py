"""Per-lab state: `$XDG_STATE_HOME/gitopslab/<lab>/` (or `GITOPSLAB_STATE_DIR/<lab>`).

    secrets.json    random credentials, generated once, mode 0600 (only `gitopslab creds` prints them)
    journal.json    finished steps, so an interrupted `up` resumes
    settings.json   the settings a lab was created with; an incompatible change is refused
    lock            an OS lock held by one `up`/`down`/`destroy` at a time (the PID inside is information)

The folder is 0700 from its creation, and one that another user owns or may write to is refused
(files.private_dir); files are replaced through O_EXCL temp files and locks opened O_NOFOLLOW, so a
planted symlink is never written through. Temp copies a killed writer left behind are removed when
the state dir is first used (files.sweep_stale_temps: only those whose writer's PID is gone).
    .state.lock     an OS lock around read-modify-write of the files above (never deleted)
    kubeconfig      the cluster's kubeconfig (the user's ~/.kube/config is changed only on request)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets as _random
import stat
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from gitopslab.errors import LabError, LockedError
from gitopslab.files import atomic_write, open_lock, private_dir, sweep_stale_temps, write_private

log = logging.getLogger(__name__)

# Names of the generated credentials, and how long each is.
SECRET_SPECS: dict[str, int] = {
    "gitea_admin_password": 24,
    "woodpecker_agent_secret": 48,
    "minio_root_password": 24,
    "argocd_webhook_secret": 32,
    "grafana_admin_password": 24,
    # The S3 store's users per consumer (stack/s3_users.py): nobody but the store holds its root login.
    "s3_ci_secret_key": 32,
    "s3_mlflow_secret_key": 32,
    "s3_serving_secret_key": 32,
    "s3_kserve_secret_key": 32,
}
SECRET_CONSTANTS: dict[str, str] = {"minio_root_user": "gitopslab-minio"}
# The passwords people type; `credentials.workshop_password` may set them for a new lab.
HUMAN_LOGINS = ("gitea_admin_password", "minio_root_password", "grafana_admin_password")


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


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def _write_json(path: Path, data: Any) -> None:
    """Atomic (files.atomic_write): a second writer, another thread of `up`, never sees half a file."""
    atomic_write(path, _json_bytes(data), mode=0o644)


def _write_secrets(path: Path, data: dict[str, str]) -> None:
    """Credentials: atomic like the rest, and 0600 from the first byte (files.write_private)."""
    write_private(path, _json_bytes(data))


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


def _bad_shape(path: Path, wanted: str, found: Any) -> LabError:
    shown = json.dumps(found)[:80]
    return LabError(f"state file {path} holds {shown}, not {wanted}",
                    hint=f"it was edited or damaged; move it aside (nothing is deleted for you): "
                         f"mv {path} {path}.bak, then run the command again")


def _read_mapping(path: Path, value_types: tuple[type, ...], wanted: str) -> dict[str, Any]:
    data = _read_json(path, {})
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, value_types)
                                             and not isinstance(v, bool) for k, v in data.items()):
        raise _bad_shape(path, wanted, data)
    return data


# One lock per state folder for read-modify-write within a process (up's parallel lanes) ...
_RMW_LOCKS: dict[Path, threading.Lock] = {}
_RMW_GUARD = threading.Lock()
_SWEPT: set[Path] = set()


@contextlib.contextmanager
def _rmw(folder: Path) -> Iterator[None]:
    """... and an OS lock on a file that is never deleted, across processes."""
    with _RMW_GUARD:
        local = _RMW_LOCKS.setdefault(folder, threading.Lock())
    with local:
        private_dir(folder)
        with _open_lock(folder / ".state.lock") as fh:
            _os_lock(fh, blocking=True)
            _sweep_once(folder)
            yield


def _sweep_once(folder: Path) -> None:
    """The temp copies that killed writers left (a whole secrets.json among them, or lab.env, or the
    kubeconfig) are removed the first time this process uses the state dir: in it and in its folders
    (k3d/, compose/, ...). A live writer's temp is kept (files.sweep_stale_temps asks for its PID)."""
    with _RMW_GUARD:
        if folder in _SWEPT:
            return
        _SWEPT.add(folder)
    with contextlib.suppress(OSError):
        subfolders = [Path(e.path) for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)]
        for where in (folder, *subfolders):
            sweep_stale_temps(where)


def _open_lock(path: Path) -> IO[str]:
    """A lock file, never through a symlink someone planted where it should be."""
    try:
        return open_lock(path)
    except OSError as exc:
        raise LockedError(f"the lock file {path} cannot be opened: {exc.strerror}"
                          + (" (it is a symlink, which gitopslab never follows)" if path.is_symlink() else ""),
                          hint=f"move it aside: mv {path} {path}.bak, then run the command again") from exc


def _os_lock(fh: IO[str], *, blocking: bool) -> bool:
    """An exclusive OS lock on an open file, released when the file is closed or the process dies."""
    if sys.platform == "win32":
        import msvcrt

        fh.seek(0)
        mode = msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK  # type: ignore[attr-defined]
        try:
            msvcrt.locking(fh.fileno(), mode, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


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

    @property
    def kubeconfig_prd(self) -> Path:
        """The multicluster profile's production cluster's kubeconfig (0600, as the first one's)."""
        return self.dir / "kubeconfig-prd"

    def exists(self) -> bool:
        return self.dir.is_dir()

    def ensure_dir(self) -> Path:
        """The state dir, created 0700 before anything is in it; one another user owns or may write
        to is refused (files.private_dir)."""
        return private_dir(self.dir)

    def log_files(self) -> list[Path]:
        """The commands' log files (logsetup.to_file writes them to logs/), sorted by name."""
        folder = self.dir / "logs"
        return sorted(folder.glob("*.log")) if folder.is_dir() else []

    # --- secrets ---------------------------------------------------------------------------------
    def secrets(self) -> dict[str, str]:
        """All credentials, generating the missing ones once. The file is always mode 0600."""
        with _rmw(self.dir):
            return self._secrets_locked()

    def _secrets_locked(self) -> dict[str, str]:
        path = self.secrets_file
        if path.exists():
            self._ensure_private(path)
        current: dict[str, str] = _read_mapping(path, (str,), "an object of credential names to strings")
        wanted = dict(current)
        for name, length in SECRET_SPECS.items():
            wanted.setdefault(name, _random.token_urlsafe(length)[:length])
        for name, value in SECRET_CONSTANTS.items():
            wanted.setdefault(name, value)
        if wanted != current or not path.exists():
            if path.exists():  # never replace or add a credential behind the user's back
                added = ", ".join(sorted(set(wanted) - set(current)))
                log.warning("%s had no %s: generated new value(s); a service created with the old "
                            "one will refuse them (`gitopslab creds` shows what is stored)", path, added)
            _write_secrets(path, wanted)
        return wanted

    @staticmethod
    def _ensure_private(path: Path) -> None:
        """Credentials are readable by their owner only: a looser file is tightened, and said so."""
        if sys.platform == "win32":
            return
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, 0o600)
            log.warning("%s was mode %04o (readable by others): set to 0600", path, mode)

    def use_workshop_password(self, password: str) -> bool:
        """A new lab takes `password` for its human logins; an existing one keeps its own (said).
        Returns True when the password was taken."""
        with _rmw(self.dir):
            if self.secrets_file.exists():
                current = self._secrets_locked()
                if all(current.get(name) == password for name in HUMAN_LOGINS):
                    return False  # already this lab's passwords (a resumed `up`)
                if not self.journal() and self.stored_settings() is None:
                    # `open` or `logs` generated the file before the first `up`: no service
                    # was made with those passwords yet, so this is still a new lab (no warning).
                    _write_secrets(self.secrets_file, current | dict.fromkeys(HUMAN_LOGINS, password))
                    return True
                log.warning("credentials.workshop_password applies to new labs only: lab %r keeps its own "
                            "passwords (`gitopslab creds`)", self.lab)
                return False
            _write_secrets(self.secrets_file, dict.fromkeys(HUMAN_LOGINS, password))
            self._secrets_locked()  # fill in the rest
            return True

    def secret(self, name: str) -> str:
        return self.secrets()[name]

    def stored_secrets(self) -> dict[str, str]:
        """The credentials as stored ({} without a file); never generates or writes. A damaged file is a
        LabError, as for every reader: what redacts with them must not go on without them."""
        return dict(_read_mapping(self.secrets_file, (str,), "an object of credential names to strings"))

    def stored_secret(self, name: str) -> str | None:
        """The credential as stored, or None. Never generates, writes or raises: a check only looks,
        and a missing or damaged file is what it reports, not what stops it. No lock: writes are atomic."""
        try:
            return self.stored_secrets().get(name) or None
        except LabError:
            return None

    def put_secret(self, name: str, value: str) -> None:
        """Store a credential learnt from a service (an API token, Argo CD's admin password)."""
        with _rmw(self.dir):
            data = self._secrets_locked()
            if data.get(name) != value:
                data[name] = value
                _write_secrets(self.secrets_file, data)

    def forget_secret(self, name: str) -> None:
        with _rmw(self.dir):
            data = self._secrets_locked()
            if data.pop(name, None) is not None:
                _write_secrets(self.secrets_file, data)

    # --- journal ---------------------------------------------------------------------------------
    def journal(self) -> dict[str, float]:
        return dict(_read_mapping(self.journal_file, (int, float), "an object of step names to times"))

    def mark_done(self, step: str) -> None:
        with _rmw(self.dir):
            data = self.journal()
            data[step] = time.time()
            _write_json(self.journal_file, data)

    def is_done(self, step: str) -> bool:
        return step in self.journal()

    def reset_journal(self, steps: list[str] | None = None) -> None:
        with _rmw(self.dir):
            data = {} if steps is None else {k: v for k, v in self.journal().items() if k not in steps}
            _write_json(self.journal_file, data)

    # --- stored settings -------------------------------------------------------------------------
    def stored_settings(self) -> dict[str, Any] | None:
        data = _read_json(self.settings_file, None)
        if data is None:
            return None
        # What `up` and the cluster layer store: one object per part ("lab", "cluster").
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise _bad_shape(self.settings_file, 'the settings `up` stored ({"lab": {...}, "cluster": {...}})', data)
        return data

    def store_settings(self, settings: dict[str, Any]) -> None:
        _write_json(self.settings_file, settings)

    # --- lock ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, verb: str) -> Iterator[None]:
        """One `up`/`down`/`destroy` per lab: an OS lock on a file that is never deleted, so it is
        exclusive, and free again the moment its holder exits or dies. The PID inside is for the message."""
        self.ensure_dir()
        _sweep_once(self.dir)
        if self.lock_file.is_dir():
            raise LockedError(f"the lock path {self.lock_file} is a folder, not a file",
                              hint=f"move it aside: mv {self.lock_file} {self.lock_file}.bak")
        fh = _open_lock(self.lock_file)
        try:
            if not _os_lock(fh, blocking=False):
                holder = self._lock_holder()
                who = f"`gitopslab {holder[1]}` (PID {holder[0]})" if holder else "another gitopslab command"
                raise LockedError(f"lab {self.lab!r} is busy: {who} holds {self.lock_file}",
                                  hint="wait for it to finish, then run again")
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()} {verb}\n")
            fh.flush()
            yield
        finally:
            fh.close()  # releases the OS lock; the file stays

    def _lock_holder(self) -> tuple[int, str] | None:
        try:
            pid, _, verb = self.lock_file.read_text().strip().partition(" ")
            return int(pid), verb or "up"
        except (OSError, ValueError):
            return None
