"""One row's class probabilities, as fast as the model allows.

scikit-learn's predict_proba checks its input on every call (check_array, the array-API namespace,
dataframe detection): for the pipeline's LogisticRegression that is ~300 us of a ~12 us computation,
and it was 80% of a /predict (benchmarks/serving.py, issue 26). parse_features has already checked the
row (length, finite numbers), so for a fitted LogisticRegression the same arithmetic runs here directly
on its coef_ and intercept_: softmax of the decision function (three or more classes) or the logistic
function (two), as sklearn's LogisticRegression.predict_proba computes them. It is used only when, at
load time, it gives predict_proba's answers on probe rows; any other model keeps predict_proba.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Predict = Callable[[list[float]], np.ndarray]
TOLERANCE = 1e-9


def _linear(coef: np.ndarray, intercept: np.ndarray) -> Predict:
    weights, bias = np.ascontiguousarray(coef.T, dtype=np.float64), np.asarray(intercept, dtype=np.float64)
    binary = weights.shape[1] == 1

    def predict(row: list[float]) -> np.ndarray:
        decision = np.asarray(row, dtype=np.float64) @ weights + bias
        if binary:
            p = 1.0 / (1.0 + np.exp(-decision))
            return np.concatenate([1.0 - p, p])
        exp = np.exp(decision - decision.max())
        return exp / exp.sum()

    return predict


def _general(model: Any) -> Predict:
    return lambda row: model.predict_proba(np.asarray([row]))[0]


def probe_rows(n_features: int) -> np.ndarray:
    """Rows to compare the two ways on: zeros, and values of every sign and size, fixed by a seed."""
    rng = np.random.default_rng(26)
    return np.vstack([np.zeros(n_features), rng.normal(0, 1, (32, n_features)), rng.normal(0, 30, (32, n_features))])


def make_predictor(model: Any, n_features: int) -> tuple[Predict, str]:
    """(predict one row, its name for /ready): "linear" where verified, else "predict_proba"."""
    general = _general(model)
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return general, "predict_proba"
    if type(model) is not LogisticRegression or n_features <= 0:
        return general, "predict_proba"
    fast = _linear(model.coef_, model.intercept_)
    rows = probe_rows(n_features)
    expected = model.predict_proba(rows)
    got = np.vstack([fast(list(row)) for row in rows])
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=0, atol=TOLERANCE):
        return general, "predict_proba"
    return fast, "linear"
