"""The API description served at /openapi.json and rendered, without any CDN, at /docs."""

from __future__ import annotations

import html

_PREDICT_EXAMPLE = {"features": [5.1, 3.5, 1.4, 0.2]}

OPENAPI: dict = {
    "openapi": "3.1.0",
    "info": {"title": "hello-api", "version": "1", "description": "Serves the iris model pinned in the GitOps repo."},
    "paths": {
        "/health": {"get": {"summary": "Liveness: the process answers.", "responses": {"200": {"description": "alive"}}}},
        "/ready": {"get": {"summary": "Readiness: the pinned model is loaded and verified.",
                           "responses": {"200": {"description": "ready"},
                                         "503": {"description": "not ready; `reason` says why"}}}},
        "/predict": {"post": {
            "summary": "Classify one iris flower: sepal length, sepal width, petal length, petal width (cm).",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object", "required": ["features"], "properties": {
                    "features": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}}},
                "example": _PREDICT_EXAMPLE}}},
            "responses": {"200": {"description": "`class`, `probabilities` per class, `model_version`"},
                          "422": {"description": "bad JSON or wrong feature count; `detail` says which"},
                          "503": {"description": "model not ready"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics: requests, latency histogram, model version.",
                             "responses": {"200": {"description": "text exposition format"}}}},
    },
}


def _rows() -> str:
    rows = []
    for path, ops in OPENAPI["paths"].items():
        for method, op in ops.items():
            rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(op['summary'])}</td></tr>")
    return "\n".join(rows)


DOCS_HTML = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>hello-api docs</title></head>
<body>
<h1>hello-api</h1>
<p>{html.escape(OPENAPI["info"]["description"])} Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
<table border="1" cellpadding="4"><tr><th>method</th><th>path</th><th>what</th></tr>
{_rows()}
</table>
<h2>Try it</h2>
<pre>curl -s -X POST -H 'content-type: application/json' \\
  -d '{{"features": [5.1, 3.5, 1.4, 0.2]}}' http://demo.localhost:8088/predict</pre>
</body></html>
"""
