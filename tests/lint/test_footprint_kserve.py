"""Issue 27: the kserve profile's footprint from the limits its tree declares: cert-manager's three pods
(the Application's values), KServe's controller (values.yaml) and one predictor per ML environment (the
InferenceService); the sum stays within the lab's 4 GiB workload budget with the core profile."""

from __future__ import annotations

from gitopslab.lint.footprint import CORE_BUDGET_BYTES, profiles_footprint
from gitopslab.model.config import LabConfig


def test_the_profile_adds_its_charts_and_predictors() -> None:
    core = profiles_footprint(LabConfig())
    served = profiles_footprint(LabConfig(kserve=True))
    core_objects: dict[str, int] = core["objects"]  # type: ignore[assignment]
    added = {k: v for k, v in served["objects"].items() if k not in core_objects}  # type: ignore[attr-defined]
    mib = {k.split(" ")[0]: v // 2**20 for k, v in added.items()}
    assert mib == {"Deployment/cert-manager/cert-manager": 128, "Deployment/cert-manager/cert-manager-webhook": 64,
                   "Deployment/cert-manager/cert-manager-cainjector": 128, "Deployment/kserve/kserve-controller-manager": 300,
                   "InferenceService/ml-dev/iris": 512, "InferenceService/ml-prd/iris": 512}
    assert served["total_bytes"] == core["total_bytes"] + sum(added.values())
    assert served["total_bytes"] <= CORE_BUDGET_BYTES  # type: ignore[operator]
