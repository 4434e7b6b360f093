"""Train the iris classifier, record it in MLflow, and write the artifact hello-api serves.

    python train.py --model-id abc1234 --out dist

Writes dist/model.joblib, dist/model.sha256 (hex digest) and dist/train.json (run id, registered
model version, metrics, sha256). With MLFLOW_TRACKING_URI set, the run's parameters, metrics and the
model go to MLflow and a new version of the registered model is created; the sha256 is recorded on the
run and the version as the tag `artifact_sha256`, so each deployed file can be traced to its run. The
alias `production` then points at that version: the model the delivery pins for hello-api is the one
the ML team's model server (gitops/base/ml/model-serving) loads as `models:/iris-classifier@production`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

REGISTERED_MODEL = os.environ.get("REGISTERED_MODEL", "iris-classifier")
EXPERIMENT = os.environ.get("MLFLOW_EXPERIMENT_NAME", "hello-api")
# The alias the model server loads (gitops/base/ml/model-serving/deployment.yaml names it).
ALIAS = "production"


def train(c: float, max_iter: int, seed: int) -> tuple[LogisticRegression, dict[str, float]]:
    iris = load_iris()
    # String labels: the model's classes_ are the names /predict answers with.
    labels = iris.target_names[iris.target]
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, labels, test_size=0.25, random_state=seed, stratify=labels)
    # A linear model: accurate on iris, and hello-api computes its probabilities in microseconds
    # (app/predictor.py; sklearn's own predict_proba spends ~250 us checking each one-row input).
    model = LogisticRegression(C=c, max_iter=max_iter).fit(x_train, y_train)
    predicted = model.predict(x_test)
    return model, {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "f1_macro": float(f1_score(y_test, predicted, average="macro")),
        "train_rows": float(len(x_train)),
        "test_rows": float(len(x_test)),
    }


def write_artifact(model: LogisticRegression, out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "model.joblib"
    joblib.dump(model, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (out / "model.sha256").write_text(digest + "\n")
    return digest


def log_to_mlflow(model: LogisticRegression, params: dict, metrics: dict[str, float], digest: str,
                  model_id: str) -> dict[str, str]:
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=f"train-{model_id}") as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.set_tags({"artifact_sha256": digest, "model_id": model_id,
                         "git_commit": os.environ.get("CI_COMMIT_SHA", "")})
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=REGISTERED_MODEL)
    version = str(info.registered_model_version)
    client = MlflowClient()
    client.set_model_version_tag(REGISTERED_MODEL, version, "artifact_sha256", digest)
    client.set_registered_model_alias(REGISTERED_MODEL, ALIAS, version)
    return {"run_id": run.info.run_id, "registered_model": REGISTERED_MODEL, "model_version": version,
            "model_uri": f"models:/{REGISTERED_MODEL}@{ALIAS}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-id", required=True, help="names the artifact: iris-<model-id>.joblib")
    parser.add_argument("--out", type=Path, default=Path("dist"))
    parser.add_argument("--C", type=float, default=float(os.environ.get("TRAIN_C", "1.0")))
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    params = {"C": args.C, "max_iter": args.max_iter, "seed": args.seed, "model": "LogisticRegression"}
    model, metrics = train(args.C, args.max_iter, args.seed)
    digest = write_artifact(model, args.out)
    result: dict = {"model_id": args.model_id, "sha256": digest, "metrics": metrics, "params": params}
    if os.environ.get("MLFLOW_TRACKING_URI"):
        result |= log_to_mlflow(model, params, metrics, digest, args.model_id)
    else:
        print("MLFLOW_TRACKING_URI is not set: the run is not recorded in MLflow")
    (args.out / "train.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
