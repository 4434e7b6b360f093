"""The seeds' own example manifests, extracted at test time (never copied), and their real faults."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from gitopslab.lint import lint


def extract_blocks(seed: Path, into: Path) -> list[str]:
    """Write every ```yaml block of a seed; a leading `# path.yaml` comment names its file, as in the seed."""
    written = []
    for i, block in enumerate(re.findall(r"```ya?ml\n(.*?)```", seed.read_text(encoding="utf-8"), re.S)):
        m = re.match(r"#\s*(\S+\.ya?ml)\s*\n", block)
        rel = m.group(1) if m else f"seed-block-{i}.yaml"
        (into / rel).parent.mkdir(parents=True, exist_ok=True)
        (into / rel).write_text(block, encoding="utf-8")
        written.append(rel)
    return written


def by_object(report) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    out: dict[str, set[str]] = {}
    for f in report.findings:
        out.setdefault(f.object, set()).add(f.rule)
    return out


def test_seed_000_multi_tenant_example(seeds_dir: Path, schemas_dir: Path, tmp_path: Path) -> None:
    seed = next(seeds_dir.glob("000_*.txt"))
    files = extract_blocks(seed, tmp_path)
    assert "_main_apps/ml-prd.yaml" in files and "argocd-projects/ml-project.yaml" in files
    report = lint(tmp_path, schemas=str(schemas_dir))
    found = by_object(report)
    assert report.exit_code == 1
    # ml-production points at namespace argocd, which its own project (ml-*) does not allow, from GitHub
    assert found["Application/argocd/ml-production"] == {"GL103", "GL105"}
    # app-production names a project nobody defined
    assert found["Application/argocd/app-production"] == {"GL102", "GL105"}
    # the ML team project may create cluster-scoped nvidia.com/* objects, pulls from GitHub, no orphan warning
    assert found["AppProject/argocd/ml-project"] == {"GL202", "GL105", "GL204"}
    # The KServe CRD's schema is known (issue 27): the seed's InferenceService is valid, and an ML team's.
    assert "InferenceService/ml-production/chat-model-v1" not in found
    assert found["Deployment/chat-api"] == {"GL003", "GL302", "GL303"}  # no selector, resources, :latest
    # the overlays reference bases the seed's tree does not have
    assert {f.file for f in report.findings if f.rule == "GL001"} == {"clusters/ml-prd", "clusters/app-prd"}
    assert "Service/ml-production/chat-model-api" not in found


def test_seed_004_appproject_policy(seeds_dir: Path, schemas_dir: Path, tmp_path: Path) -> None:
    seed = next(seeds_dir.glob("004_*.txt"))
    text = seed.read_text(encoding="utf-8")
    [fragment] = re.findall(r"```ya?ml\n(.*?)```", text, re.S)
    repo = re.search(r"`(https://github\.com/[^`]+)`", text).group(1)
    # The seed shows spec fragments of its `AppProject/dev`; assemble that project from them.
    project = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
        "metadata": {"name": "dev", "namespace": "argocd"},
        "spec": {**yaml.safe_load(fragment), "sourceRepos": [repo],
                 "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "*-dev"}],
                 "orphanedResources": {"warn": True}},
    }
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(project))
    report = lint(tmp_path, schemas=str(schemas_dir))
    assert report.exit_code == 1
    # GL203 too: the seed's project declares no namespaceResourceWhitelist, so every kind is allowed
    assert by_object(report) == {"AppProject/argocd/dev": {"GL202", "GL105", "GL203"}}
    [cluster] = [f for f in report.findings if f.rule == "GL202"]
    assert "*/*" in cluster.message
    # the bare fragment itself is not a Kubernetes object
    (tmp_path / "fragment.yaml").write_text(fragment)
    assert "GL002" in lint(tmp_path, schemas=str(schemas_dir)).rules()
