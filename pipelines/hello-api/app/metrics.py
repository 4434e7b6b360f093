"""Prometheus text exposition (format 0.0.4), kept in-process and dependency-free.

Label sets are bounded: `path` is one of the app's routes or "other", so a scanner probing random
URLs cannot blow up the series count.
"""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def _labels(**labels: str) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}" if inner else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.bucket_counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.duration_sum: dict[str, float] = defaultdict(float)
        self.duration_count: dict[str, int] = defaultdict(int)
        self.predictions: dict[str, int] = defaultdict(int)

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, path, str(status))] += 1
            counts = self.bucket_counts[path]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            self.duration_sum[path] += seconds
            self.duration_count[path] += 1

    def predicted(self, label: str) -> None:
        with self._lock:
            self.predictions[label] += 1

    def render(self, model: dict[str, str], ready: bool, load_seconds: float | None) -> str:
        out = [
            "# HELP hello_api_requests_total HTTP requests by method, route and status.",
            "# TYPE hello_api_requests_total counter",
        ]
        with self._lock:
            for (method, path, status), n in sorted(self.requests.items()):
                out.append(f"hello_api_requests_total{_labels(method=method, path=path, status=status)} {n}")
            out += [
                "# HELP hello_api_request_duration_seconds Time to answer a request, by route.",
                "# TYPE hello_api_request_duration_seconds histogram",
            ]
            for path, counts in sorted(self.bucket_counts.items()):
                for bound, n in zip(BUCKETS, counts, strict=True):
                    out.append(f"hello_api_request_duration_seconds_bucket{_labels(path=path, le=str(bound))} {n}")
                total = self.duration_count[path]
                out.append(f"hello_api_request_duration_seconds_bucket{_labels(path=path, le='+Inf')} {total}")
                out.append(f"hello_api_request_duration_seconds_sum{_labels(path=path)} {self.duration_sum[path]:.6f}")
                out.append(f"hello_api_request_duration_seconds_count{_labels(path=path)} {total}")
            out += [
                "# HELP hello_api_predictions_total Predictions served, by predicted class.",
                "# TYPE hello_api_predictions_total counter",
            ]
            for label, n in sorted(self.predictions.items()):
                out.append(f"hello_api_predictions_total{_labels(**{'class': label})} {n}")
        out += [
            "# HELP hello_api_model_info The model this process serves (value is always 1).",
            "# TYPE hello_api_model_info gauge",
            f"hello_api_model_info{_labels(**model)} 1",
            "# HELP hello_api_model_ready 1 when the pinned model is loaded and /predict answers.",
            "# TYPE hello_api_model_ready gauge",
            f"hello_api_model_ready {1 if ready else 0}",
        ]
        if load_seconds is not None:
            out += [
                "# HELP hello_api_model_load_seconds Time to fetch, verify and unpickle the model.",
                "# TYPE hello_api_model_load_seconds gauge",
                f"hello_api_model_load_seconds {load_seconds:.6f}",
            ]
        return "\n".join(out) + "\n"
