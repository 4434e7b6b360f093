"""Schema validation of every object: strict Kubernetes schemas (kubernetes-validate) for core kinds,
and upstream JSON schemas for the CRDs the lab uses (Argo CD, Prometheus Operator, KServe).

Where the CRD schemas come from (they are never copied into gitopslab): `--schemas DIR`, else
$GITOPSLAB_SCHEMAS, else $GITOPSLAB_CONTRACTS, else ../shared/contracts beside a source checkout. The
folder may hold, per kind, the JSON schema named in CRD_SCHEMAS (what the kubectl line of GL005 exports)
or the CRD itself as upstream ships it: any CustomResourceDefinition YAML in the folder or its `crds/`,
whose served version's openAPIV3Schema is used (a JSON file wins where both are there). When none is
there (an installed gitopslab outside the development checkout), each CRD kind gets one GL005 warning
that says plainly it was not schema-checked and how to get its schema; an apiVersion/kind that is
neither core nor a known CRD is always a GL004 finding.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import yaml

from gitopslab.lint.loader import LintInputError, Obj

CRD_SCHEMAS: dict[tuple[str, str], str] = {
    ("argoproj.io/v1alpha1", "Application"): "argocd-application.schema.json",
    ("argoproj.io/v1alpha1", "AppProject"): "argocd-appproject.schema.json",
    ("argoproj.io/v1alpha1", "ApplicationSet"): "argocd-applicationset.schema.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "service-monitor.schema.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheus-rule.schema.json",
    # The kserve profile (issue 27): from the CRD of the pinned KServe release.
    ("serving.kserve.io/v1beta1", "InferenceService"): "kserve-inferenceservice.schema.json",
}


# The CRD each schema file describes: a running cluster that has it gives the schema (the fix GL005 names).
CRD_NAMES: dict[str, str] = {
    "argocd-application.schema.json": "applications.argoproj.io",
    "argocd-appproject.schema.json": "appprojects.argoproj.io",
    "argocd-applicationset.schema.json": "applicationsets.argoproj.io",
    "service-monitor.schema.json": "servicemonitors.monitoring.coreos.com",
    "prometheus-rule.schema.json": "prometheusrules.monitoring.coreos.com",
    "kserve-inferenceservice.schema.json": "inferenceservices.serving.kserve.io",
}


def export_command(filename: str) -> str:
    """The kubectl line that writes `filename` from the CRD in a cluster (e.g. the running lab's)."""
    return (f"kubectl get crd {CRD_NAMES[filename]} -o jsonpath='{{.spec.versions[0].schema.openAPIV3Schema}}'"
            f" > schemas/{filename}")


def default_kubernetes_version() -> str:
    """The Kubernetes minor the lab runs (the pinned k3s image)."""
    from gitopslab.model.versions import IMAGES

    tag = IMAGES["k3s"].rsplit(":", 1)[1]  # v1.35.5-k3s1
    major, minor = tag.lstrip("v").split(".")[:2]
    return f"{major}.{minor}"


def _crd_files(d: Path) -> list[Path]:
    """The YAML files that may hold CRDs as they ship: in the folder itself and in its `crds/`."""
    return sorted(f for folder in (d, d / "crds") if folder.is_dir() for f in folder.iterdir()
                  if f.suffix in (".yaml", ".yml") and f.is_file())


def _has_schemas(d: Path) -> bool:
    return d.is_dir() and (any((d / f).is_file() for f in CRD_SCHEMAS.values()) or bool(_crd_files(d)))


def _openapi_to_json_schema(schema: Any) -> Any:
    """openAPIV3Schema -> JSON Schema: `nullable: true` (OpenAPI 3.0) becomes a type that admits null, the
    one difference that changes a verdict; the x-kubernetes-* keys stay for strict() to read."""
    if isinstance(schema, list):
        return [_openapi_to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: ({n: _openapi_to_json_schema(s) for n, s in v.items()} if k == "properties" and isinstance(v, dict)
               else _openapi_to_json_schema(v)) for k, v in schema.items()}
    if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@functools.lru_cache(maxsize=16)
def _crd_versions(path: str, _mtime_ns: int, _size: int) -> dict[tuple[str, str], Any]:
    """(apiVersion, kind) -> JSON schema for each served version of each CRD in one YAML file (cached per
    file state: a CRD such as KServe's is 2 MB of YAML, parsed once per process)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, encoding="utf-8") as fh:
            docs = list(yaml.load_all(fh, Loader=loader))  # noqa: S506 - a safe loader, C or Python
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LintInputError(f"the schema folder's file {path} cannot be read as YAML: {exc}",
                             "remove it from the schema folder, or replace it with the CRD manifest as "
                             "upstream ships it (a CustomResourceDefinition YAML)") from exc
    found: dict[tuple[str, str], Any] = {}
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc.get("spec") or {}
        for version in spec.get("versions") or []:
            schema = ((version.get("schema") or {}).get("openAPIV3Schema"))
            if version.get("served", True) and isinstance(schema, dict):
                key = (f"{spec.get('group')}/{version.get('name')}", str((spec.get("names") or {}).get("kind")))
                found[key] = _openapi_to_json_schema(schema)
    return found


def crd_schema(schema_dir: Path, api_version: str, kind: str) -> Any | None:
    """The JSON schema of apiVersion/kind from a CRD manifest in the folder (or its crds/), or None. Only
    files that name the API group are parsed."""
    group = api_version.split("/", 1)[0]
    for path in _crd_files(schema_dir):
        try:
            if group not in path.read_text(encoding="utf-8", errors="replace"):
                continue
            st = path.stat()
        except OSError as exc:
            raise LintInputError(f"the schema folder's file {path} cannot be read: {exc}",
                                 "check its permissions, or remove it from the schema folder") from exc
        schema = _crd_versions(str(path), st.st_mtime_ns, st.st_size).get((api_version, kind))
        if schema is not None:
            return schema
    return None


def find_schema_dir(explicit: str | None = None) -> Path | None:
    """The folder with the CRD schemas; an explicit folder is the only one looked at."""
    if explicit:
        return Path(explicit) if _has_schemas(Path(explicit)) else None
    candidates = [os.environ.get("GITOPSLAB_SCHEMAS"), os.environ.get("GITOPSLAB_CONTRACTS"),
                  str(Path(__file__).resolve().parents[2].parent / "shared" / "contracts")]
    for c in candidates:
        if c and _has_schemas(Path(c)):
            return Path(c)
    return None


def strict(schema: Any) -> Any:
    """Refuse unknown fields, as kubectl's default strict field validation does: every object schema
    that lists its properties (and does not preserve unknown fields) gets additionalProperties: false."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: ({n: strict(s) for n, s in v.items()} if k in ("properties", "$defs", "definitions")
               and isinstance(v, dict) else strict(v)) for k, v in schema.items()}
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


def _path(error: Any) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


class Validator:
    def __init__(self, schema_dir: Path | None, k8s_version: str) -> None:
        self.schema_dir = schema_dir
        self.k8s_version = k8s_version
        self._crd: dict[str, Any] = {}
        try:
            import kubernetes_validate
        except ImportError:  # gitopslab installed without the `lint` extra
            kubernetes_validate = None
        self._kv = kubernetes_validate

    def check(self, obj: Obj) -> tuple[str, str] | None:
        """(rule id, message) for the object's first schema problem, or None when it validates."""
        key = (str(obj.data.get("apiVersion")), obj.kind)
        if key in CRD_SCHEMAS:
            return self._check_crd(obj, CRD_SCHEMAS[key])
        if self._kv is None:
            return "GL005", "core Kubernetes schemas unavailable: pip install 'gitopslab[lint]'"
        try:
            self._kv.validate(obj.data, self.k8s_version, strict=True)
        except self._kv.SchemaNotFoundError:
            return "GL004", (f"no schema for {key[0]} {key[1]} in Kubernetes {self.k8s_version} "
                             "or the known CRDs (Argo CD, Prometheus Operator, KServe)")
        except self._kv.ValidationError as exc:
            return "GL003", f"{_path(exc)}: {exc.message}"
        return None

    def _schema(self, api_version: str, kind: str, filename: str) -> Any | None:
        """The JSON schema file if the folder has it, else the CRD manifest's version schema, else None."""
        if self.schema_dir is None:
            return None
        if (self.schema_dir / filename).is_file():
            return json.loads((self.schema_dir / filename).read_text(encoding="utf-8"))
        return crd_schema(self.schema_dir, api_version, kind)

    def _check_crd(self, obj: Obj, filename: str) -> tuple[str, str] | None:
        import jsonschema

        if filename not in self._crd:
            schema = self._schema(str(obj.data.get("apiVersion")), obj.kind, filename)
            if schema is not None:
                schema = strict(schema)
                self._crd[filename] = jsonschema.validators.validator_for(schema)(schema)
        if filename not in self._crd:
            where = (f"neither it nor a {CRD_NAMES[filename]} CRD manifest is in {self.schema_dir} or its crds/"
                     if self.schema_dir else "gitopslab does not ship CRD schemas")
            return "GL005", (f"{obj.kind} objects were checked by the tenancy rules but NOT against a schema "
                             f"({filename}: {where}). To validate them too: mkdir schemas && "
                             f"{export_command(filename)}  (from the running lab: eval \"$(gitopslab kubeconfig)\" "
                             "first), or copy the CRD's manifest as upstream ships it into schemas/, then "
                             "gitopslab lint --schemas schemas")
        errors = sorted(self._crd[filename].iter_errors(obj.data), key=lambda e: list(e.absolute_path))
        if errors:
            return "GL003", f"{_path(errors[0])}: {errors[0].message}"
        return None
