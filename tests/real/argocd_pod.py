"""Argo CD's repo-server as the lab's cluster runs it, started as a container on the lab network.

The pod comes from the lab's own manifests, never restated here: Argo CD's install manifest (the
module's manifests/install.yaml, the file the lab installs from ARGOCD_INSTALL_URL at the same tag)
merged as server-side apply merges it with gitopslab's objects (render/argocd.objects: the repo-server's
partial Deployment, argocd-cmd-params-cm, the git config ConfigMap). `docker_run_args` turns that pod
into `docker run` arguments the way the kubelet would run it: each variable, configMapKeyRef resolved
(an optional key that is absent is left out, as Kubernetes does), each volume (configMap volumes as
files, emptyDirs as 0777 folders, an absent optional secret as an empty folder), the container's arguments
after the image's entrypoint, and its securityContext (read-only root, no capabilities, non-root).

The image is the project's debootstrap base (scripts/real-stack/build.py's, with git, gpg and tini as
Argo CD's Dockerfile installs them) plus the argocd binary the cluster tier builds, laid out as that
Dockerfile lays it out (/usr/local/bin/argocd and its argocd-repo-server link, the git wrappers, uid 999).
"""

from __future__ import annotations

import copy
import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.real.cluster_harness import build_namespace, module_dir, program

REPO_SERVER = "argocd-repo-server"
IMAGE = "gitopslab-real-argocd:local"
BASE = ("gitopslab-argocd-base:bookworm", ("ca-certificates", "git", "gpg", "gpg-agent", "tini"))
DOCKERFILE = """\
ARG BASE
FROM ${BASE}
RUN groupadd -g 999 argocd && useradd -r -u 999 -g argocd -m -d /home/argocd argocd && \\
    mkdir -p /app/config/ssh /app/config/tls /app/config/gpg/source /app/config/gpg/keys && \\
    chown argocd /app/config/gpg/keys && chmod 0700 /app/config/gpg/keys
COPY argocd gpg-wrapper.sh git-verify-wrapper.sh /usr/local/bin/
RUN ln -s /usr/local/bin/argocd /usr/local/bin/argocd-repo-server
ENV USER=argocd GRPC_ENABLE_TXT_SERVICE_CONFIG=false
USER 999
WORKDIR /home/argocd
ENTRYPOINT ["/usr/bin/tini", "--"]
"""
# Merge keys of the lists server-side apply merges (Kubernetes' patchMergeKey for each field).
MERGE_KEYS = {"containers": "name", "env": "name", "volumes": "name", "volumeMounts": "mountPath"}


def install_manifest() -> list[dict[str, Any]]:
    text = (module_dir("argocd") / "manifests" / "install.yaml").read_text()
    return [d for d in yaml.safe_load_all(text) if d]


def merge(live: Any, applied: Any, key: str = "") -> Any:
    """Server-side apply, for the fields gitopslab applies: maps key by key, keyed lists item by item."""
    if isinstance(live, dict) and isinstance(applied, dict):
        out = copy.deepcopy(live)
        for k, v in applied.items():
            out[k] = merge(out.get(k), v, k) if k in out else copy.deepcopy(v)
        return out
    if isinstance(live, list) and isinstance(applied, list) and key in MERGE_KEYS:
        field = MERGE_KEYS[key]
        out_list = copy.deepcopy(live)
        for item in applied:
            at = next((i for i, old in enumerate(out_list) if old.get(field) == item.get(field)), None)
            if at is None:
                out_list.append(copy.deepcopy(item))
            else:
                out_list[at] = merge(out_list[at], item)
        return out_list
    return copy.deepcopy(applied)


def lab_objects(install: list[dict[str, Any]], ours: Mapping[str, dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """(kind, name) -> object, as the lab's cluster holds them after `up`'s argocd.install and configure."""
    objects = {(d["kind"], d["metadata"]["name"]): d for d in install}
    for obj in ours.values():
        key = (obj["kind"], obj["metadata"]["name"])
        objects[key] = merge(objects[key], obj) if key in objects else obj
    return objects


def repo_server_pod(objects: Mapping[tuple[str, str], Any]) -> dict[str, Any]:
    spec: dict[str, Any] = objects[("Deployment", REPO_SERVER)]["spec"]["template"]["spec"]
    return spec


def _config_map_data(objects: Mapping[tuple[str, str], Any], name: str) -> dict[str, str] | None:
    cm = objects.get(("ConfigMap", name))
    return None if cm is None else dict(cm.get("data") or {})


def container_env(objects: Mapping[tuple[str, str], Any], container: dict[str, Any],
                  runtime_secrets: Mapping[tuple[str, str], str]) -> dict[str, str]:
    """The variables the kubelet gives the container: values, and references resolved."""
    env: dict[str, str] = {}
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        ref = item["valueFrom"]
        if "configMapKeyRef" in ref:
            cm = ref["configMapKeyRef"]
            value = (_config_map_data(objects, cm["name"]) or {}).get(cm["key"])
        else:  # a Secret Argo CD writes at run time (argocd-redis's `auth`, by its redis-secret-init Job)
            sec = ref["secretKeyRef"]
            value = runtime_secrets.get((sec["name"], sec["key"]))
        if value is None:
            optional = (ref.get("configMapKeyRef") or ref.get("secretKeyRef") or {}).get("optional")
            assert optional, f"{container['name']}: {item['name']} refers to something the lab does not hold"
            continue
        env[item["name"]] = value
    return env


def volume_args(objects: Mapping[tuple[str, str], Any], pod: dict[str, Any], container: dict[str, Any],
                root: Path) -> list[str]:
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    args: list[str] = []
    for mount in container.get("volumeMounts") or []:
        vol, path = volumes[mount["name"]], mount["mountPath"]
        assert "subPath" not in mount, f"{mount}: a subPath mount is not translated here"
        folder = root / mount["name"]
        folder.mkdir(parents=True, exist_ok=True)
        if "emptyDir" in vol:
            # As the kubelet makes an emptyDir: a folder of the node, mode 0777 (a tmpfs mount takes the
            # mode of the image's folder under it: /app/config/gpg/keys is 0700 root there).
            folder.chmod(0o777)
            args += ["--mount", f"type=bind,source={folder},destination={path}"]
            continue
        folder.chmod(0o755)
        if "configMap" in vol:
            data = _config_map_data(objects, vol["configMap"]["name"])
            assert data is not None or vol["configMap"].get("optional"), f"ConfigMap {vol['configMap']['name']}"
            items = vol["configMap"].get("items") or [{"key": k, "path": k} for k in data or {}]
            for item in items:
                if data and item["key"] in data:
                    (folder / item["path"]).write_text(data[item["key"]])
                    (folder / item["path"]).chmod(0o644)
        else:  # a Secret that is optional and absent here (the repo-server's own TLS: it makes one)
            assert vol.get("secret", {}).get("optional"), f"volume {vol['name']} is not translated here"
        args += ["--mount", f"type=bind,source={folder},destination={path},readonly"]
    return args


def security_args(container: dict[str, Any]) -> list[str]:
    ctx = container.get("securityContext") or {}
    args = []
    if ctx.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    if ctx.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    args += [f"--cap-drop={cap}" for cap in (ctx.get("capabilities") or {}).get("drop", [])]
    return args


def docker_run_args(objects: Mapping[tuple[str, str], Any], root: Path, *, name: str, network: str,
                    image: str = IMAGE) -> list[str]:
    """`docker run` arguments for the repo-server container of the lab's pod."""
    pod = repo_server_pod(objects)
    (container,) = [c for c in pod["containers"] if c["name"] == REPO_SERVER]
    assert pod.get("automountServiceAccountToken") is False  # no API access to stand in for
    env = container_env(objects, container, {("argocd-redis", "auth"): secrets.token_hex(12)})
    flags = [f for k, v in env.items() for f in ("-e", f"{k}={v}")]
    entry = ["--entrypoint", container["command"][0]] if container.get("command") else []
    argv = [*(container.get("command") or [])[1:], *(container.get("args") or [])]
    return ["docker", "run", "-d", "--name", name, "--network", network, *security_args(container), *flags,
            *volume_args(objects, pod, container, root), *entry, image, *argv]


def ensure_image() -> str:
    """The repo-server image, rebuilt when the binary or this recipe changes."""
    ns = build_namespace()
    ns["ensure_base"](ns["BaseImage"](*BASE))
    binary = program("argocd")
    key = hashlib.sha256(DOCKERFILE.encode() + str(binary.stat().st_mtime_ns).encode()).hexdigest()[:16]
    label = "io.gitopslab.real-stack.key"
    seen = subprocess.run(["docker", "image", "inspect", "-f", f'{{{{index .Config.Labels "{label}"}}}}', IMAGE],
                          capture_output=True, text=True)
    if seen.returncode == 0 and seen.stdout.strip() == key:
        return IMAGE
    hack = module_dir("argocd") / "hack"
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Path(tmp)
        (ctx / "Dockerfile").write_text(DOCKERFILE)
        shutil.copy(binary, ctx / "argocd")
        for script in ("gpg-wrapper.sh", "git-verify-wrapper.sh"):
            shutil.copy(hack / script, ctx / script)
            (ctx / script).chmod(0o755)
        done = subprocess.run(["docker", "build", "-q", "--build-arg", f"BASE={BASE[0]}", "--label", f"{label}={key}",
                               "-t", IMAGE, str(ctx)], capture_output=True, text=True, timeout=600,
                              env=dict(os.environ, DOCKER_BUILDKIT="0"))
        assert done.returncode == 0, done.stdout + done.stderr
    return IMAGE
