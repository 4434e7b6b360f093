"""The Argo CD bootstrap objects validate against the upstream schemas: gitopslab's own objects against
Kubernetes' (kubernetes-validate --strict), the AppProjects and the root Application it applies
against Argo CD v3.5.1's CRD schemas (../shared/contracts). The shipped GitOps tree is checked too
when this checkout has it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gitopslab.model.config import LabConfig
from gitopslab.model.topology import build
from gitopslab.render import argocd as objs
from tests.fakes.cluster_lab import write_gitops_tree

pytestmark = pytest.mark.contracts
REPO = Path(__file__).resolve().parents[2]


def _kubernetes_validate(path: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("kubernetes-validate") or str(Path(sys.executable).with_name("kubernetes-validate"))
    return subprocess.run([exe, "--strict", "-k", "1.35.0", str(path)], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("with_secrets", [False, True])
def test_own_objects_are_valid_kubernetes(tmp_path: Path, with_secrets: bool) -> None:
    cfg = LabConfig()
    topo = build(cfg)
    secrets = {"gitea_argocd_token": "p4ss-word-x", "argocd_webhook_secret": "hook-secret-y"} if with_secrets else None
    for name, obj in objs.objects(cfg, topo, secrets).items():
        path = tmp_path / name
        path.write_text(objs.dump(objs.with_data(obj) if obj["kind"] == "Secret" and with_secrets else obj))
        result = _kubernetes_validate(path)
        assert result.returncode == 0, result.stdout + result.stderr
        # An unknown kind only warns: insist it was really validated.
        assert "WARN" not in result.stdout + result.stderr, result.stdout + result.stderr


def test_objects_carry_the_topology_and_placeholders_only() -> None:
    cfg = LabConfig(ports={"gitea": 3300}, hostnames={"gitea": "git.localhost"})
    topo = build(cfg)
    rendered = objs.objects(cfg, topo)
    assert rendered["argocd-cmd-params-cm.yaml"]["data"] == {"server.insecure": "true"}
    port = rendered["argocd-server-service.yaml"]["spec"]["ports"][0]
    assert (port["port"], port["targetPort"], port["nodePort"]) == (80, topo.service("argocd").container_port,
                                                                    topo.service("argocd").node_port)
    repo = rendered["repository-secret.yaml"]
    assert repo["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    assert repo["stringData"]["url"] == "http://git.localhost:3300/platform/gitops.git"
    assert repo["stringData"]["password"] == "<secret:gitea_argocd_token>"
    assert objs.webhook_url(topo) == f"{topo.service('argocd').url}/api/webhook"


def test_argocd_cm_restores_application_health_for_sync_waves() -> None:
    """Argo CD 1.8 dropped Application health, so a wave of child Applications counted as Healthy at once
    and the root app's waves (projects -2, namespaces/guardrails -1, team apps 1) held nothing back."""
    topo = build(LabConfig())
    rendered = objs.objects(LabConfig(), topo)
    cm = rendered["argocd-cm.yaml"]
    assert (cm["kind"], cm["metadata"]["name"], cm["metadata"]["namespace"]) == ("ConfigMap", "argocd-cm", "argocd")
    assert list(cm["data"]) == ["resource.customizations.health.argoproj.io_Application"]
    lua = cm["data"]["resource.customizations.health.argoproj.io_Application"]
    # the check Argo CD's operator manual gives: Progressing until the child reports, then its own health
    assert 'hs.status = "Progressing"' in lua and "hs.status = obj.status.health.status" in lua
    assert lua.rstrip().endswith("return hs")
    # `gitopslab render` writes it, and it is applied before the root app (argocd.configure < bootstrap)
    assert "argocd/argocd-cm.yaml" in objs.render(LabConfig(), topo)
    waves = sorted({int(d["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
                    for f in (REPO / "gitops" / "_main_apps").glob("*.yaml")
                    for d in yaml.safe_load_all(f.read_text()) if d})
    assert len(waves) > 1  # the waves the health check makes meaningful


def _crd_validators(contracts_dir: Path) -> dict[str, jsonschema.protocols.Validator]:
    out = {}
    for kind, file in (("Application", "argocd-application.schema.json"), ("AppProject", "argocd-appproject.schema.json"),
                       ("ApplicationSet", "argocd-applicationset.schema.json")):
        schema = json.loads((contracts_dir / file).read_text())
        out[kind] = jsonschema.Draft202012Validator(schema)
    return out


def _bootstrap_docs(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    docs = []
    for part in ("projects", "bootstrap"):
        for file in sorted((root / part).glob("*.yaml")):
            docs += [(file, d) for d in yaml.safe_load_all(file.read_text()) if d]
    return docs


def test_bootstrap_objects_validate_against_argocd_crds(contracts_dir: Path, tmp_path: Path) -> None:
    validators = _crd_validators(contracts_dir)
    topo = build(LabConfig())
    roots = [write_gitops_tree(tmp_path / "gitops", topo)]
    if (REPO / "gitops" / "bootstrap").is_dir():  # the shipped tree, where this checkout has it
        roots.append(REPO / "gitops")
    checked = 0
    for root in roots:
        for file, doc in _bootstrap_docs(root):
            errors = [e.message for e in validators[doc["kind"]].iter_errors(doc)]
            assert errors == [], f"{file}: {errors}"
            if doc["kind"] == "Application":
                assert doc["spec"]["source"]["repoURL"] == objs.gitops_repo_url(topo)
            checked += 1
    assert checked >= 2


def test_the_crd_schema_rejects_a_broken_application(contracts_dir: Path) -> None:
    """The validation above has teeth: an Application without destination is refused."""
    validator = _crd_validators(contracts_dir)["Application"]
    broken = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "x"},
              "spec": {"project": "platform", "source": {"repoURL": "http://x"}}}
    assert list(validator.iter_errors(broken))
