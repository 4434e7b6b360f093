"""Schema validation of every object: strict Kubernetes schemas (kubernetes-validate) for core kinds,
and upstream JSON schemas for the CRDs the lab uses (Argo CD, Prometheus Operator, KServe).

Where the CRD schemas come from (they are never copied into gitopslab): `--schemas DIR`, else
$GITOPSLAB_SCHEMAS, else $GITOPSLAB_CONTRACTS, else ../shared/contracts beside a source checkout. When
none is there (an installed gitopslab outside the development checkout), each CRD kind gets one GL005
warning that says plainly it was not schema-checked and how to export its schema from a cluster; an
apiVersion/kind that is neither core nor a known CRD is always a GL004 finding.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gitopslab.lint.loader import Obj

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


def _has_schemas(d: Path) -> bool:
    return d.is_dir() and any((d / f).is_file() for f in CRD_SCHEMAS.values())


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

    def _check_crd(self, obj: Obj, filename: str) -> tuple[str, str] | None:
        if self.schema_dir is None or not (self.schema_dir / filename).is_file():
            where = f"not in {self.schema_dir}" if self.schema_dir else "gitopslab does not ship CRD schemas"
            return "GL005", (f"{obj.kind} objects were checked by the tenancy rules but NOT against a schema "
                             f"({filename}: {where}). To validate them too: mkdir schemas && "
                             f"{export_command(filename)}  (from the running lab: eval \"$(gitopslab kubeconfig)\" "
                             "first), then gitopslab lint --schemas schemas")
        import jsonschema

        if filename not in self._crd:
            schema = strict(json.loads((self.schema_dir / filename).read_text(encoding="utf-8")))
            cls = jsonschema.validators.validator_for(schema)
            self._crd[filename] = cls(schema)
        errors = sorted(self._crd[filename].iter_errors(obj.data), key=lambda e: list(e.absolute_path))
        if errors:
            return "GL003", f"{_path(errors[0])}: {errors[0].message}"
        return None
