"""LabConfig: the one model of a lab's settings. Sources, later wins: defaults, gitopslab.yaml,
GITOPSLAB_* environment variables, command-line flags.

Environment variables name a field path with `__` between levels, e.g. `GITOPSLAB_PORTS__GITEA=3300`,
`GITOPSLAB_ENGINE=podman`, `GITOPSLAB_GPU=auto`. Every problem is reported at once, one line each,
naming the field path, the bad value and what is allowed (`ConfigError`, exit 2).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import reprlib
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gitopslab.errors import ConfigError
from gitopslab.model.versions import IMAGES

DEFAULT_FILE = "gitopslab.yaml"
ENV_PREFIX = "GITOPSLAB_"


# A config file is a few hundred bytes; these bounds keep a hostile one (a FIFO, /dev/zero, a YAML
# alias bomb, 100 000 nested brackets) from hanging, exhausting memory or flooding the terminal.
MAX_FILE_BYTES = 256 * 1024
MAX_VALUES = 5_000
MAX_DEPTH = 12
SHOWN_CHARS = 80
# A file of thousands of unknown keys printed 905 KB of errors: the first problems say what is wrong.
MAX_PROBLEMS = 20

# Roles whose container holds host root: the Woodpecker agent gets the engine's socket, the k3s nodes
# run privileged. A settings file can come from anywhere (a course repo, the folder you stand in), so
# such an image outside the pins is only taken when the user names the role in this variable, which no
# file can set (docs/SECURITY.md).
HOST_ROOT_ROLES = {
    "woodpecker-agent": "gets the container engine's socket",
    "k3s": "runs as a privileged container",
    "k3s-cuda-base": "is the base of the privileged GPU node",
}
ALLOW_IMAGES_ENV = "GITOPSLAB_ALLOW_IMAGES"

# Private IPv4 ranges (RFC 1918): a lab subnet elsewhere would shadow real hosts or loopback.
_PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


class _Strict(BaseModel):
    # No inf/nan anywhere: an infinite timeout is an unbounded wait.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """YAML `true` is 1 to pydantic: `ports.gitea: true` would be port 1. Numbers must be numbers."""
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and field.annotation in (int, float) and isinstance(value, bool):
            raise ValueError(f"must be a number, not {str(value).lower()}")
        return value


# Ports a compose service's container already listens on besides its own HTTP port: the same port as
# `ports.<service>` (which the container also listens on) would make it fail at start.
WOODPECKER_GRPC_PORT = 9000  # compose/compose.yaml: WOODPECKER_GRPC_ADDR, and the agents' WOODPECKER_SERVER
FIXED_INNER_PORTS: dict[str, dict[int, str]] = {
    "woodpecker": {WOODPECKER_GRPC_PORT: "Woodpecker's gRPC port inside its container (the agents connect to it)"},
    # The registry image's config.yml sets http.debug.addr :5001; a clash there is fatal at start.
    "registry": {5001: "the registry's debug listener inside its container (http.debug.addr in the image)"},
}


# Ports only the multicluster profile publishes: a clash with them matters only when it is on.
MULTICLUSTER_PORTS = {"kube_api_prd", "hello_api_prd"}


class Ports(_Strict):
    """Host ports. Compose services listen on the same port inside the lab network."""

    gitea: int = Field(3000, ge=1, le=65535)
    woodpecker: int = Field(8000, ge=1, le=65535)
    registry: int = Field(5002, ge=1, le=65535)
    kube_api: int = Field(6550, ge=1, le=65535)
    argocd: int = Field(8081, ge=1, le=65535)
    hello_api: int = Field(8088, ge=1, le=65535)
    mlflow: int = Field(8090, ge=1, le=65535)
    minio_api: int = Field(9090, ge=1, le=65535)
    minio_console: int = Field(9091, ge=1, le=65535)
    dashboard: int = Field(32443, ge=1, le=65535)
    grafana: int = Field(3001, ge=1, le=65535)
    prometheus: int = Field(9099, ge=1, le=65535)
    alertmanager: int = Field(9093, ge=1, le=65535)
    # The multicluster profile's production cluster: its API and the prd hello-api (own ports: the first
    # cluster's load balancer already holds 6550 and 8088 on 127.0.0.1).
    kube_api_prd: int = Field(6551, ge=1, le=65535)
    hello_api_prd: int = Field(8089, ge=1, le=65535)
    # The kserve profile's model endpoint (models.localhost): the InferenceService's server, v1 and v2.
    models: int = Field(8095, ge=1, le=65535)

    @field_validator("woodpecker", "registry")
    @classmethod
    def _not_taken_inside(cls, value: int, info: ValidationInfo) -> int:
        taken = FIXED_INNER_PORTS[str(info.field_name)].get(value)
        if taken:
            default = cls.model_fields[str(info.field_name)].default
            raise ValueError(f"{value} is {taken}; choose another port, e.g. {default}")
        return value

    @field_validator("*")
    @classmethod
    def _unprivileged(cls, value: int) -> int:
        return _port(value)


def _port(value: int) -> int:
    if value < 1024:
        raise ValueError(f"port {value} is privileged (below 1024): binding it needs root, and rootless "
                         "Docker/Podman cannot; choose a port from 1024 to 65535")
    return value


class Hostnames(_Strict):
    """The one name per service, valid in the browser, in CI containers and in pods."""

    gitea: str = "gitea.localhost"
    woodpecker: str = "woodpecker.localhost"
    registry: str = "registry.localhost"
    argocd: str = "argocd.localhost"
    hello_api: str = "demo.localhost"
    mlflow: str = "mlflow.localhost"
    minio: str = "minio.localhost"
    dashboard: str = "dashboard.localhost"
    grafana: str = "grafana.localhost"
    prometheus: str = "prometheus.localhost"
    alertmanager: str = "alertmanager.localhost"
    # The multicluster profile: prd's hello-api, and the production cluster's API (Argo CD's cluster Secret
    # names it; the k3s certificate carries it as a SAN), each one name in every horizon.
    hello_api_prd: str = "demo-prd.localhost"
    kube_api_prd: str = "kube-prd.localhost"
    # The kserve profile: the model endpoint (the InferenceService iris in ml-dev).
    models: str = "models.localhost"

    @field_validator("*")
    @classmethod
    def _hostname(cls, value: str) -> str:
        # Only names under .localhost: `hosts --apply` (run with sudo) maps every one to 127.0.0.1, so a
        # shared gitopslab.yaml naming github.com would hijack it for everyone on the machine.
        labels = value.split(".")
        if not value or len(value) > 253 or not value.isascii() or not all(
            label and len(label) <= 63 and label.replace("-", "a").isalnum() and label[0] != "-"
            for label in labels
        ):
            raise ValueError("must be a DNS name such as gitea.localhost (ASCII letters, digits, '-', dots)")
        value = value.lower()
        # `localhost` itself is loopback everywhere (RFC 6761) and takes over no real name either; it serves
        # hosts whose resolvers do not map *.localhost (Go's, out of cluster: the real cluster tier).
        if value != "localhost" and (len(labels) < 2 or not value.endswith(".localhost")):
            raise ValueError("must be `localhost` or end in .localhost (e.g. gitea.localhost): the lab maps its names to "
                             "127.0.0.1 in the hosts file, and must not take over a real name")
        return value


class Network(_Strict):
    """The lab network. Fixed addresses let pods resolve the lab's names (k3d hostAliases)."""

    # The name reaches env files and `docker network create`: Docker's own name rule, nothing more.
    name: str = Field("", pattern=r"^([a-zA-Z0-9][a-zA-Z0-9_.-]{0,62})?$",
                      description="docker network name; empty means the lab's name")
    subnet: str = "172.30.80.0/24"

    @field_validator("subnet")
    @classmethod
    def _subnet(cls, value: str) -> str:
        net = ipaddress.ip_network(value, strict=True)
        if net.version != 4 or net.prefixlen > 26:
            raise ValueError("must be an IPv4 network of /26 or larger, e.g. 172.30.80.0/24")
        if not any(net.subnet_of(p) for p in _PRIVATE):  # type: ignore[arg-type]
            raise ValueError("must be a private range (inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16), "
                             "e.g. 172.30.80.0/24: a public or loopback subnet would hide real addresses")
        return str(net)


class Resources(_Strict):
    """What the lab may use; preflight compares the host against it."""

    memory_gib: float = Field(4.0, gt=0, description="memory limit budget of the core profile")
    disk_gib: float = Field(10.0, gt=0, description="free disk needed for images and volumes")
    cpus: float = Field(2.0, gt=0)


class Proxy(_Strict):
    """Passed to the components that reach out (Woodpecker steps, k3s image pulls, Argo CD)."""

    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = ""

    @field_validator("*")
    @classmethod
    def _one_token(cls, value: str) -> str:
        if any(c.isspace() or not c.isprintable() for c in value):
            raise ValueError("must be one URL or list without spaces or control characters")
        return value

    def as_env(self) -> dict[str, str]:
        env = {"HTTP_PROXY": self.http_proxy, "HTTPS_PROXY": self.https_proxy, "NO_PROXY": self.no_proxy}
        return {k: v for k, v in env.items() if v} | {k.lower(): v for k, v in env.items() if v}


class Mirrors(_Strict):
    """Pull-through mirrors on a machine in the room (`gitopslab mirror up`): images of each upstream
    registry, and a PyPI index for pip, from there instead of the internet (docs/CLASSROOM.md)."""

    docker_io: str = Field("", description="mirror of docker.io, e.g. http://192.168.1.10:5101")
    quay_io: str = Field("", description="mirror of quay.io (Argo CD's images)")
    ghcr_io: str = Field("", description="mirror of ghcr.io (MLflow, Headlamp, k3d's helpers)")
    registry_k8s_io: str = Field("", description="mirror of registry.k8s.io")
    nvcr_io: str = Field("", description="mirror of nvcr.io (the GPU profile)")
    pypi: str = Field("", description="a PyPI simple index (PIP_INDEX_URL) for the pipelines' and hello-api's pip, "
                                      "e.g. a devpi or a company index")

    @field_validator("*")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s]*)?", value):
            raise ValueError("must be an http(s) URL without spaces or user info, e.g. http://192.168.1.10:5101")
        return value.rstrip("/") if value.count("/") == 2 else value

    def registries(self) -> dict[str, str]:
        """Upstream registry host -> mirror URL, for the ones set."""
        named = {"docker.io": self.docker_io, "quay.io": self.quay_io, "ghcr.io": self.ghcr_io,
                 "registry.k8s.io": self.registry_k8s_io, "nvcr.io": self.nvcr_io}
        return {host: url for host, url in named.items() if url}


class Timeouts(_Strict):
    """Bounds of every wait, in seconds."""

    service_ready: float = Field(180, gt=0, le=86400)
    argocd_sync: float = Field(600, gt=0, le=86400)
    http: float = Field(10, gt=0, le=3600)
    doctor_check: float = Field(3, gt=0, le=120, description="seconds each doctor/preflight check may take")
    poll_interval: float = Field(2, gt=0, le=600)


class Credentials(_Strict):
    """Human logins. Without settings every password is random, generated once per lab."""

    workshop_password: str = Field(
        "", description="one password for the human logins of a NEW lab (Gitea admin, MinIO, Grafana, Argo CD "
                        "admin), so every screen in the room matches the instructor's; 12 or more characters, no "
                        "spaces. An existing lab keeps its own (`gitopslab creds`)")

    @field_validator("workshop_password")
    @classmethod
    def _usable(cls, value: str) -> str:
        if value and (len(value) < 12 or any(c.isspace() for c in value) or not value.isprintable()):
            raise ValueError("workshop_password needs 12 or more printable characters without spaces")
        return value


class LabConfig(_Strict):
    """Settings of one lab. A user need not write any: the defaults serve."""

    name: str = Field("gitopslab", pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
    engine: Literal["auto", "docker", "podman"] = "auto"
    gpu: Literal["off", "on", "auto"] = "off"
    observability: bool = False
    kserve: bool = Field(False, description="KServe v0.20.0 in RawDeployment mode serving the pipeline's model "
                                            "as an InferenceService (seed 000), at models.localhost")
    multicluster: bool = Field(False, description="a second k3d cluster for production (prd apps deploy there, "
                                                  "managed by the lab's one Argo CD)")
    offline: bool = Field(False, description="pull nothing: use only what `gitopslab bundle load` put in "
                                             "the engine and the state dir (classroom mode)")
    ports: Ports = Field(default_factory=Ports)
    hostnames: Hostnames = Field(default_factory=Hostnames)
    network: Network = Field(default_factory=Network)
    resources: Resources = Field(default_factory=Resources)
    proxy: Proxy = Field(default_factory=Proxy)
    mirrors: Mirrors = Field(default_factory=Mirrors)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    credentials: Credentials = Field(default_factory=Credentials)
    images: dict[str, str] = Field(default_factory=dict, description="image overrides by role")
    admin_user: str = Field("gitopslab", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,38}$")
    admin_email: str = Field("admin@gitopslab.localhost", max_length=254,
                             pattern=r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")

    @field_validator("images")
    @classmethod
    def _known_images(cls, value: dict[str, str]) -> dict[str, str]:
        for key, image in value.items():
            if key not in IMAGES:
                raise ValueError(f"unknown image role {key!r}{_did_you_mean(key, IMAGES)}; roles: {', '.join(IMAGES)}")
            if not image or any(c.isspace() or not c.isprintable() for c in image):
                raise ValueError(f"image for {key!r} must be a reference such as {IMAGES[key]}")
        return value

    @model_validator(mode="after")
    def _profiles_combine(self) -> LabConfig:
        # KServe is installed on the first cluster only: with a production cluster, ml-prd's InferenceService
        # would be sent where no KServe runs (lint's GL108 names it). Refused before anything is made.
        if self.kserve and self.multicluster:
            raise ValueError("the kserve and multicluster profiles cannot be combined yet: KServe runs on the "
                             "first cluster only, so ml-prd's InferenceService would have no controller on the "
                             "production cluster; choose one of them (--profile kserve or --profile multicluster)")
        return self

    @model_validator(mode="after")
    def _ports_unique(self) -> LabConfig:
        seen: dict[int, str] = {}
        problems = []
        for field, port in self.ports.model_dump().items():
            if field in {"grafana", "prometheus", "alertmanager"} and not self.observability:
                continue
            if field == "models" and not self.kserve:
                continue
            if field in MULTICLUSTER_PORTS and not self.multicluster:
                continue
            if port in seen:
                problems.append(f"ports.{field} and ports.{seen[port]} are both {port}; give each service its own port")
            seen.setdefault(port, field)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def profiles(self) -> list[str]:
        """Active profiles: core always, gpu when requested (auto resolves at preflight), observability, ..."""
        return (["core"] + (["gpu"] if self.gpu != "off" else []) + (["observability"] if self.observability else [])
                + (["multicluster"] if self.multicluster else []) + (["kserve"] if self.kserve else []))

    def image(self, role: str) -> str:
        return self.images.get(role, IMAGES[role])


def _did_you_mean(word: str, choices: Mapping[str, Any] | list[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def apply_profile(data: dict[str, Any], profile: str) -> None:
    """`--profile NAME` on the command line: core, gpu, observability, multicluster or kserve."""
    if profile == "gpu":
        if data.get("gpu", "off") == "off":
            data["gpu"] = "on"
    elif profile == "observability":
        data["observability"] = True
    elif profile == "multicluster":
        data["multicluster"] = True
    elif profile == "kserve":
        data["kserve"] = True
    elif profile != "core":
        raise ConfigError([f"--profile: {profile!r} is not a profile; choose core, gpu, observability, "
                           "multicluster or kserve"], "flags")


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """GITOPSLAB_<FIELD>[__<SUB>] set fields. Other GITOPSLAB_* variables steer gitopslab itself
    (GITOPSLAB_CONFIG, GITOPSLAB_STATE_DIR, ...) and are left alone, unless one looks like a misspelt
    field, which is refused with a did-you-mean rather than silently ignored."""
    data: dict[str, Any] = {}
    fields = list(LabConfig.model_fields)
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        path = key[len(ENV_PREFIX):].lower().split("__")
        if path[0] not in fields:
            near = difflib.get_close_matches(path[0], fields, n=1, cutoff=0.85)
            if near:
                raise ConfigError([f"{key}: unknown setting (did you mean {ENV_PREFIX}{near[0].upper()}?)"],
                                  "environment")
            continue
        if path[0] == "images":
            _env_image(data, key, path, value)
            continue
        node = data
        for depth, part in enumerate(path[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # GITOPSLAB_PORTS=5 and GITOPSLAB_PORTS__GITEA=3000
                raise ConfigError([_env_clash(environ, path[:depth + 1], key)], "environment")
            node = child
        if isinstance(node.get(path[-1]), dict):  # GITOPSLAB_PORTS__GITEA=3000, then GITOPSLAB_PORTS=5
            raise ConfigError([_env_clash(environ, path, key)], "environment")
        node[path[-1]] = value
    return data


def _env_clash(environ: Mapping[str, str], prefix: list[str], key: str) -> str:
    whole = ENV_PREFIX + "__".join(prefix).upper()
    others = sorted(k for k in environ if k != key and (k == whole or k.startswith(whole + "__")))
    both = ", ".join([key, *others][:3])
    return (f"{both}: {whole} is a group of settings and cannot also be set as one value; "
            f"unset {whole} and set its fields, e.g. {whole}__<FIELD>=<value>")


def _env_image(data: dict[str, Any], key: str, path: list[str], value: str) -> None:
    """GITOPSLAB_IMAGES__WOODPECKER_SERVER=ref (a POSIX name cannot hold `-`: `_` stands for it), or
    GITOPSLAB_IMAGES as a JSON object {"role": "ref"} or `role=ref,role=ref`."""
    images = data.setdefault("images", {})
    if len(path) > 1:
        role = "__".join(path[1:])
        images[role.replace("_", "-") if role.replace("_", "-") in IMAGES else role] = value
        return
    import json

    text = value.strip()
    try:
        parsed = json.loads(text) if text.startswith("{") else dict(
            item.split("=", 1) for item in text.split(",") if item.strip())
    except ValueError as exc:
        raise ConfigError([f"{key}: not a JSON object or role=image list ({exc}); e.g. "
                           f"{key}='{{\"gitea\": \"{IMAGES['gitea']}\"}}' or {key}__GITEA=<image>"],
                          "environment") from None
    if not isinstance(parsed, dict):
        raise ConfigError([f"{key}: must be a JSON object of role -> image, e.g. {{\"gitea\": \"{IMAGES['gitea']}\"}}"],
                          "environment")
    images.update({str(k).strip(): str(v).strip() for k, v in parsed.items()})


def value_sources(path: Path | None, environ: Mapping[str, str],
                  flags: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Where each explicitly set field came from ("file PATH", "env NAME", "flag", "host proxy env"),
    keyed by dotted field path; a field not listed is the default. Later sources win, as in load_config."""
    out: dict[str, str] = {}
    for dotted in _dotted(_host_proxy(environ)):
        out[dotted] = f"env {dotted.split('.')[-1].upper()} (host proxy)"
    if path:
        for dotted in _dotted(_read_file(path)):
            out[dotted] = f"file {path}"
    for key in sorted(k for k in environ if k.startswith(ENV_PREFIX)):
        for dotted in _dotted(_env_overrides({key: environ[key]})):
            out[dotted] = f"env {key}"
    for dotted in _dotted(dict(flags or {})):
        out[dotted] = "flag"
    return out


def _dotted(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        keys += _dotted(value, name + ".") if isinstance(value, Mapping) and value else [name]
    return keys


def _host_proxy(environ: Mapping[str, str]) -> dict[str, Any]:
    """The host's HTTP(S)_PROXY / NO_PROXY are the default proxy settings of the lab."""
    proxy = {}
    for field in ("http_proxy", "https_proxy", "no_proxy"):
        value = environ.get(field.upper()) or environ.get(field)
        if value:
            proxy[field] = value
    return {"proxy": proxy} if proxy else {}


def _read_bytes(path: Path) -> bytes:
    """A regular file under MAX_FILE_BYTES. Opened non-blocking and checked after opening, so a FIFO
    cannot hang us and /dev/zero cannot fill memory (a check before opening could be raced)."""
    def bad(why: str, fix: str = "point --config at a gitopslab.yaml") -> ConfigError:
        return ConfigError([f"{path}: {why}; {fix}"], str(path))

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise bad(f"cannot be read ({exc.strerror})", "check the --config path") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise bad("is not a regular file (a folder, device or pipe)")
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise bad(f"is larger than {MAX_FILE_BYTES // 1024} KiB, too large for lab settings")
    return data


def _read_file(path: Path) -> dict[str, Any]:
    data = _read_bytes(path)
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text (byte {exc.start} is {data[exc.start:exc.start + 1]!r}); "
                           "save it as UTF-8"], str(path)) from None
    except ValueError as exc:  # Python's own limit: an integer of more than 4300 digits
        raise ConfigError([f"{path}: holds a value Python refuses to read ({_clip(str(exc))}); "
                           "a port or timeout is a short number"], str(path)) from None
    except RecursionError:
        raise ConfigError([f"{path}: nested too deeply to be lab settings; see docs/CONFIGURATION.md"],
                          str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = _clip(str(getattr(exc, "problem", None) or exc))
        raise ConfigError([f"{path}: not valid YAML{where}: {problem}"], str(path)) from exc
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of settings, not {type(raw).__name__}"], str(path))
    _check_extent(raw, path)
    return raw


def _check_extent(raw: Any, path: Path) -> None:
    """Refuse values that expand past MAX_VALUES or nest past MAX_DEPTH (YAML aliases can make a few
    hundred bytes stand for billions of values). Counting stops at the limit, so this is cheap."""
    count = 0
    stack: list[tuple[Any, int]] = [(raw, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_VALUES or depth > MAX_DEPTH:
            why = (f"expands to more than {MAX_VALUES} values" if count > MAX_VALUES
                   else f"nests deeper than {MAX_DEPTH} levels")
            raise ConfigError([f"{path}: {why} (YAML anchors and aliases?), far beyond lab settings; "
                               "see docs/CONFIGURATION.md for what the file holds"], str(path))
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = SHOWN_CHARS
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 2, 4, 4


def _clip(text: str) -> str:
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:SHOWN_CHARS + 1])
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


def _short(value: Any) -> str:
    """A value as shown in an error: bounded, whatever its size."""
    if isinstance(value, str):
        return repr(value) if len(value) <= SHOWN_CHARS else repr(value[:SHOWN_CHARS]) + "..."
    return _clip(str(value) if isinstance(value, BaseException) else _REPR.repr(value))


def _format_errors(exc: ValidationError) -> list[str]:
    problems = []
    errors = exc.errors()
    for err in errors[:MAX_PROBLEMS]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            parent = _model_at(err["loc"][:-1])
            allowed = list(parent.model_fields) if parent else []
            field = _clip(str(err["loc"][-1]))
            problems.append(f"{_clip(loc)}: unknown setting{_did_you_mean(field, allowed)}; "
                            f"allowed here: {', '.join(allowed)}")
            continue
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f" (got {_short(value)})"
        msg = err["msg"].removeprefix("Value error, ")
        problems.append(f"{_clip(loc)}: {msg}{shown}")
    if len(errors) > MAX_PROBLEMS:
        problems.append(f"... and {len(errors) - MAX_PROBLEMS} more problems not shown; fix these first, "
                        "or compare the file with docs/CONFIGURATION.md")
    return problems


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = LabConfig
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def find_config_file(explicit: str | None, environ: Mapping[str, str], cwd: Path) -> Path | None:
    if explicit:
        return Path(explicit)
    if environ.get("GITOPSLAB_CONFIG"):
        return Path(environ["GITOPSLAB_CONFIG"])
    candidate = cwd / DEFAULT_FILE
    return candidate if candidate.is_file() else None


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> LabConfig:
    """Defaults < file < GITOPSLAB_* < flags. Raises ConfigError listing every problem."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = _read_file(path) if path else {}
    if path:
        _check_file_images(data, path, environ)
    data = _merge(_host_proxy(environ), data)
    data = _merge(data, _env_overrides(environ))
    data = _merge(data, dict(flags or {}))
    try:
        return LabConfig.model_validate(data)
    except ValidationError as exc:
        source = str(path) if path else "configuration"
        raise ConfigError(_format_errors(exc), source) from None


def _check_file_images(data: Mapping[str, Any], path: Path, environ: Mapping[str, str]) -> None:
    """A settings file may not hand host root to an image outside the pins unless the user allows
    that role by name in GITOPSLAB_ALLOW_IMAGES (a file cannot set the environment)."""
    images = data.get("images")
    if not isinstance(images, Mapping):
        return  # its shape is validated with the rest
    allowed = {r.strip() for r in environ.get(ALLOW_IMAGES_ENV, "").split(",") if r.strip()}
    risky = {str(role): image for role, image in images.items()
             if str(role) in HOST_ROOT_ROLES and image != IMAGES[str(role)] and str(role) not in allowed}
    if not risky:
        return
    problems = [f"images.{role}: {_short(image)} is not the pinned {IMAGES[role]}, and this container "
                f"{HOST_ROOT_ROLES[role]} (root on this machine)" for role, image in risky.items()]
    roles = ",".join(risky)
    problems.append(f"if you trust {path} and that image, allow it by name: {ALLOW_IMAGES_ENV}={roles} "
                    f"(an environment variable, which no settings file can set); otherwise remove the "
                    f"override from {path}")
    raise ConfigError(problems, str(path))


def json_schema() -> dict[str, Any]:
    schema = LabConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "gitopslab.yaml"
    return schema
