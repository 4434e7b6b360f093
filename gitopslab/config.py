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
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gitopslab.errors import ConfigError
from gitopslab.versions import IMAGES

DEFAULT_FILE = "gitopslab.yaml"
ENV_PREFIX = "GITOPSLAB_"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


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

    @field_validator("*")
    @classmethod
    def _hostname(cls, value: str) -> str:
        labels = value.split(".")
        if not value or len(value) > 253 or not all(
            label and len(label) <= 63 and label.replace("-", "a").isalnum() and label[0] != "-"
            for label in labels
        ):
            raise ValueError("must be a DNS name such as gitea.localhost (letters, digits, '-', dots)")
        return value.lower()


class Network(_Strict):
    """The lab network. Fixed addresses let pods resolve the lab's names (k3d hostAliases)."""

    name: str = Field("", description="docker network name; empty means the lab's name")
    subnet: str = "172.30.80.0/24"

    @field_validator("subnet")
    @classmethod
    def _subnet(cls, value: str) -> str:
        net = ipaddress.ip_network(value, strict=True)
        if net.version != 4 or net.prefixlen > 26:
            raise ValueError("must be an IPv4 network of /26 or larger, e.g. 172.30.80.0/24")
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

    def as_env(self) -> dict[str, str]:
        env = {"HTTP_PROXY": self.http_proxy, "HTTPS_PROXY": self.https_proxy, "NO_PROXY": self.no_proxy}
        return {k: v for k, v in env.items() if v} | {k.lower(): v for k, v in env.items() if v}


class Timeouts(_Strict):
    """Bounds of every wait, in seconds."""

    service_ready: float = Field(180, gt=0)
    argocd_sync: float = Field(600, gt=0)
    http: float = Field(10, gt=0)
    doctor_check: float = Field(3, gt=0, le=120, description="seconds each doctor/preflight check may take")
    poll_interval: float = Field(2, gt=0)


class LabConfig(_Strict):
    """Settings of one lab. A user need not write any: the defaults serve."""

    name: str = Field("gitopslab", pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
    engine: Literal["auto", "docker", "podman"] = "auto"
    gpu: Literal["off", "on", "auto"] = "off"
    observability: bool = False
    ports: Ports = Field(default_factory=Ports)
    hostnames: Hostnames = Field(default_factory=Hostnames)
    network: Network = Field(default_factory=Network)
    resources: Resources = Field(default_factory=Resources)
    proxy: Proxy = Field(default_factory=Proxy)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    images: dict[str, str] = Field(default_factory=dict, description="image overrides by role")
    admin_user: str = Field("gitopslab", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,38}$")
    admin_email: str = "admin@gitopslab.localhost"

    @field_validator("images")
    @classmethod
    def _known_images(cls, value: dict[str, str]) -> dict[str, str]:
        for key, image in value.items():
            if key not in IMAGES:
                raise ValueError(f"unknown image role {key!r}{_did_you_mean(key, IMAGES)}; roles: {', '.join(IMAGES)}")
            if not image or any(c.isspace() for c in image):
                raise ValueError(f"image for {key!r} must be a reference such as {IMAGES[key]}")
        return value

    @model_validator(mode="after")
    def _ports_unique(self) -> LabConfig:
        seen: dict[int, str] = {}
        problems = []
        for field, port in self.ports.model_dump().items():
            if field in {"grafana", "prometheus", "alertmanager"} and not self.observability:
                continue
            if port in seen:
                problems.append(f"ports.{field} and ports.{seen[port]} are both {port}; give each service its own port")
            seen.setdefault(port, field)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def profiles(self) -> list[str]:
        """Active profiles: core always, gpu when requested (auto resolves at preflight), observability."""
        return ["core"] + (["gpu"] if self.gpu != "off" else []) + (["observability"] if self.observability else [])

    def image(self, role: str) -> str:
        return self.images.get(role, IMAGES[role])


def _did_you_mean(word: str, choices: Mapping[str, Any] | list[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def apply_profile(data: dict[str, Any], profile: str) -> None:
    """`--profile NAME` on the command line: core, gpu or observability."""
    if profile == "gpu":
        if data.get("gpu", "off") == "off":
            data["gpu"] = "on"
    elif profile == "observability":
        data["observability"] = True
    elif profile != "core":
        raise ConfigError([f"--profile: {profile!r} is not a profile; choose core, gpu or observability"], "flags")


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
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return data


def _host_proxy(environ: Mapping[str, str]) -> dict[str, Any]:
    """The host's HTTP(S)_PROXY / NO_PROXY are the default proxy settings of the lab."""
    proxy = {}
    for field in ("http_proxy", "https_proxy", "no_proxy"):
        value = environ.get(field.upper()) or environ.get(field)
        if value:
            proxy[field] = value
    return {"proxy": proxy} if proxy else {}


def _read_file(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror}); check the --config path"], str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}"], str(path)) from exc
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of settings, not {type(raw).__name__}"], str(path))
    return raw


def _format_errors(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            parent = _model_at(err["loc"][:-1])
            allowed = list(parent.model_fields) if parent else []
            field = str(err["loc"][-1])
            problems.append(f"{loc}: unknown setting{_did_you_mean(field, allowed)}; allowed here: {', '.join(allowed)}")
            continue
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f" (got {value!r})"
        msg = err["msg"].removeprefix("Value error, ")
        problems.append(f"{loc}: {msg}{shown}")
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
    data = _merge(_host_proxy(environ), data)
    data = _merge(data, _env_overrides(environ))
    data = _merge(data, dict(flags or {}))
    try:
        return LabConfig.model_validate(data)
    except ValidationError as exc:
        source = str(path) if path else "configuration"
        raise ConfigError(_format_errors(exc), source) from None


def json_schema() -> dict[str, Any]:
    schema = LabConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "gitopslab.yaml"
    return schema
