"""Request validation against an upstream Swagger 2.0 document (read from ../shared/contracts).

Nothing is hand-written: operations, path/query parameters and body schemas come from the spec. Body
schemas are the spec's `definitions`, CLOSED (`additionalProperties: false` wherever a schema lists
properties and says nothing else) because Go's JSON decoding drops unknown fields silently: a typo'd or
invented field would be lost in the real service without an error, so here it is a failure.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema


class ContractViolation(AssertionError):
    """A request the upstream contract does not define."""


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    op_id: str
    params: dict[str, str]        # path parameters
    body: Any                     # parsed JSON body, or None


def _close(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _close(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out and "allOf" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_close(v) for v in node]
    return node


class Spec:
    def __init__(self, path: Path, *, wildcard_params: tuple[str, ...] = ()) -> None:
        doc = json.loads(path.read_text(encoding="utf-8"))
        self.name = path.name
        self.base_path = doc.get("basePath", "")
        self.definitions = _close(copy.deepcopy(doc.get("definitions", {})))
        self._routes: list[tuple[str, str, re.Pattern[str], dict[str, Any], list[dict[str, Any]]]] = []
        for template, item in doc["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters":
                    continue
                regex = re.escape(template)
                for name in re.findall(r"\{(\w+)\}", template):
                    group = ".+" if name in wildcard_params else "[^/]+"
                    regex = regex.replace(re.escape("{" + name + "}"), f"(?P<{name}>{group})")
                self._routes.append((method.upper(), template, re.compile(f"^{regex}$"), op,
                                     shared + op.get("parameters", [])))
        # Literal segments beat parameters (e.g. /repos/lookup/... before /repos/{repo_id}/...).
        self._routes.sort(key=lambda r: r[1].count("{"))

    def operation_ids(self) -> set[str]:
        return {str(r[3].get("operationId") or f"{r[0]} {r[1]}") for r in self._routes}

    def validate(self, method: str, path: str, query: dict[str, list[str]], body: bytes | None) -> Operation:
        """The operation this request is, or ContractViolation saying what the spec lacks."""
        if not path.startswith(self.base_path + "/"):
            raise ContractViolation(f"{method} {path}: not under basePath {self.base_path} of {self.name}")
        rel = path[len(self.base_path):]
        matched_path = False
        for verb, template, regex, op, params in self._routes:
            found = regex.match(rel)
            if not found:
                continue
            matched_path = True
            if verb != method:
                continue
            return self._check(method, template, op, params, found.groupdict(), query, body)
        what = "method not defined for this path" if matched_path else "path not defined"
        raise ContractViolation(f"{method} {path}: {what} in {self.name}")

    def _check(self, method: str, template: str, op: dict[str, Any], params: list[dict[str, Any]],
               path_params: dict[str, str], query: dict[str, list[str]], body: bytes | None) -> Operation:
        where = f"{method} {self.base_path}{template}"
        by_in: dict[str, dict[str, dict[str, Any]]] = {}
        for p in params:
            by_in.setdefault(p["in"], {})[p["name"]] = p
        for name, value in path_params.items():
            _check_type(where, f"path parameter {name}", by_in.get("path", {}).get(name, {}), value)
        declared = by_in.get("query", {})
        for name, values in query.items():
            if name not in declared:
                raise ContractViolation(f"{where}: query parameter {name!r} is not defined (defined: "
                                        f"{sorted(declared) or 'none'})")
            for value in values:
                _check_type(where, f"query parameter {name}", declared[name], value)
        for name, p in declared.items():
            if p.get("required") and name not in query:
                raise ContractViolation(f"{where}: required query parameter {name!r} missing")
        parsed = self._check_body(where, by_in.get("body", {}), body)
        return Operation(method, template, str(op.get("operationId") or f"{method} {template}"), path_params, parsed)

    def _check_body(self, where: str, body_params: dict[str, dict[str, Any]], body: bytes | None) -> Any:
        if not body_params:
            if body:
                raise ContractViolation(f"{where}: takes no body, got {body[:200]!r}")
            return None
        param = next(iter(body_params.values()))
        if not body:
            if param.get("required"):
                raise ContractViolation(f"{where}: body required ({param.get('schema')})")
            return None
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise ContractViolation(f"{where}: body is not JSON: {exc}") from None
        schema = dict(_close(param.get("schema", {})))
        schema["definitions"] = self.definitions
        errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(data), key=lambda e: list(e.path))
        if errors:
            detail = "; ".join(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:5])
            raise ContractViolation(f"{where}: body does not match {schema.get('$ref', 'schema')}: {detail}")
        return data


def _check_type(where: str, what: str, param: dict[str, Any], value: str) -> None:
    kind = param.get("type", "string")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        raise ContractViolation(f"{where}: {what} must be an integer, got {value!r}")
    if kind == "boolean" and value not in {"true", "false"}:
        raise ContractViolation(f"{where}: {what} must be true or false, got {value!r}")
    if "enum" in param and value not in param["enum"]:
        raise ContractViolation(f"{where}: {what} must be one of {param['enum']}, got {value!r}")
