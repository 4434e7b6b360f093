"""/predict without sklearn's per-call input checks (app/predictor.py): same answers as predict_proba,
and only for the models where that was verified at load; /ready says which way a model is served."""

from __future__ import annotations

import hashlib
import io

import joblib
import numpy as np
from app.predictor import make_predictor, probe_rows
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from test_app import client_for, wait_ready


def served(model: object) -> tuple[dict, list[dict]]:
    """(/ready's body, /predict's bodies for every iris row) for `model` behind the real app."""
    buf = io.BytesIO()
    joblib.dump(model, buf)
    data = buf.getvalue()
    with client_for({("ml-models", "iris-test.joblib"): data}, hashlib.sha256(data).hexdigest()) as client:
        ready = wait_ready(client)
        answers = [client.post("/predict", json={"features": [float(v) for v in row]}) for row in load_iris().data]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200][:3]
    return ready, [a.json() for a in answers]


def assert_same_as_sklearn(model, bodies: list[dict]) -> None:
    rows = load_iris().data
    expected = model.predict_proba(rows)
    for body, probs, label in zip(bodies, expected, model.predict(rows), strict=True):
        assert body["class"] == label
        assert [body["probabilities"][str(c)] for c in model.classes_] == [round(float(p), 6) for p in probs]


def test_the_pipelines_model_is_served_linear_with_predict_probas_answers(artifact) -> None:
    model, _ = artifact
    ready, bodies = served(model)
    assert ready["ready"] is True and ready["predictor"] == "linear"
    assert_same_as_sklearn(model, bodies)


def test_a_model_of_another_kind_keeps_predict_proba() -> None:
    iris = load_iris()
    tree = DecisionTreeClassifier(random_state=0).fit(iris.data, iris.target_names[iris.target])
    ready, bodies = served(tree)
    assert ready["predictor"] == "predict_proba"
    assert_same_as_sklearn(tree, bodies)


def test_two_classes_use_the_logistic_function_like_sklearn() -> None:
    iris = load_iris()
    keep = iris.target < 2
    model = LogisticRegression(max_iter=200).fit(iris.data[keep], iris.target_names[iris.target[keep]])
    predict, name = make_predictor(model, 4)
    assert name == "linear"
    rows = probe_rows(4)
    assert np.allclose(np.vstack([predict(list(r)) for r in rows]), model.predict_proba(rows), rtol=0, atol=1e-12)


def test_a_subclass_that_changes_the_answers_is_not_served_linear() -> None:
    class Tempered(LogisticRegression):
        def predict_proba(self, X):  # noqa: N803  (sklearn's name)
            p = super().predict_proba(X) ** 2
            return p / p.sum(axis=1, keepdims=True)

    iris = load_iris()
    model = Tempered(max_iter=200).fit(iris.data, iris.target)
    predict, name = make_predictor(model, 4)
    assert name == "predict_proba"
    assert np.allclose(predict([6.0, 2.7, 5.1, 1.6]), model.predict_proba([[6.0, 2.7, 5.1, 1.6]])[0])
