"""The exact k3d, kubectl and docker commands of the cluster layer, for: a first `up`, a second `up`
(nothing changes), `down`, `destroy`, the `gpu` profile and a refused incompatible change. The layer
and the orchestrator run for real; only the process boundary (FakeWorld) and Argo CD's HTTP API
(FakeArgoCD, a real server on 127.0.0.1) are stand-ins."""

from __future__ import annotations

import base64
import stat
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from gitopslab.conductor import runner as orchestrator
from gitopslab.conductor.guard import refuse_incompatible
from gitopslab.errors import IncompatibleChange, PreflightError
from gitopslab.model.config import LabConfig
from gitopslab.model.versions import (
    ARGOCD_INSTALL_URL,
    NVIDIA_CONTAINER_TOOLKIT_VERSION,
    NVIDIA_DEVICE_PLUGIN_URL,
)
from gitopslab.render import argocd as objs
from gitopslab.render import k3d as k3d_render
from gitopslab.stack import argocd_layer
from gitopslab.stack.cluster_layer import ClusterLayer, shipped_dir
from tests.fakes.cluster import app
from tests.fakes.cluster_lab import Lab

SMI = "NVIDIA GeForce RTX 4090, 24564 MiB, 550.54.14"


def up(lab: Lab, layer: ClusterLayer | None = None) -> orchestrator.RunReport:
    layer = layer or lab.layer()
    refuse_incompatible(layer.ctx, layer)
    return orchestrator.run(lab.ctx, [*layer.cluster_steps(), *argocd_layer.argocd_steps(layer)])


def kubectl(lab: Lab, *args: str) -> str:
    return " ".join(["kubectl", "--kubeconfig", str(lab.ctx.state.kubeconfig), "--context",
                     f"k3d-{lab.ctx.topo.cluster_name}", *args])


def ssa(lab: Lab, source: str = "-", ns: str | None = None, force: bool = False, manager: str = "gitopslab") -> str:
    """`kubectl apply` as the layer must call it: server-side, never client-side (that would keep a
    copy of every secret in the last-applied annotation)."""
    args = ["apply", *(["-n", ns] if ns else []), "--server-side", f"--field-manager={manager}"]
    return kubectl(lab, *args, *(["--force-conflicts"] if force else []), "-f", source)


def owned_check(lab: Lab) -> str:
    """down/destroy ask the engine whether the cluster's server node carries the lab's label."""
    name, lab_name = lab.ctx.topo.cluster_name, lab.ctx.topo.lab
    return (f"docker ps -a --filter label=k3d.cluster={name} --filter label=k3d.role=server "
            f"--filter label=io.gitopslab.lab={lab_name} --format {{{{.Names}}}}")


def test_first_up_runs_exactly_these_commands(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    name, state = lab.ctx.topo.cluster_name, lab.ctx.state
    report = up(lab)
    assert [o.action for o in report.outcomes] == ["applied"] * 11
    gitops = lab.gitops
    node_image = lab.ctx.cfg.image("k3s")
    assert [str(c) for c in lab.world.calls] == [
        f"docker image inspect {node_image}",                       # cluster.node-image: check
        f"docker pull {node_image}",                                 # nobody watches: the CLI pulls
        "k3d cluster list -o json",                                  # cluster.create: check
        "k3d cluster list -o json",                                  # cluster.create: apply
        f"docker network inspect {lab.ctx.topo.network}",
        f"k3d cluster create --config {state.dir / 'k3d' / 'cluster.yaml'}",
        f"k3d kubeconfig get {name}",
        kubectl(lab, "get", "configmap", "coredns-custom", "-n", "kube-system", "-o", "json"),  # cluster.names
        ssa(lab, force=True),                                        # coredns-custom: the lab's names
        kubectl(lab, "rollout", "restart", "deployment/coredns", "-n", "kube-system"),
        "edge start",
        kubectl(lab, "get", "deployment", "argocd-server", "-n", "argocd", "-o", "json"),
        ssa(lab),                                         # namespace argocd
        ssa(lab, ARGOCD_INSTALL_URL, ns="argocd", force=True, manager="kubectl"),
        kubectl(lab, "rollout", "status", "deployment/argocd-server", "-n", "argocd", "--timeout=180s"),
        kubectl(lab, "get", "configmap", "argocd-cmd-params-cm", "-n", "argocd", "-o", "json"),
        kubectl(lab, "get", "configmap", "argocd-cm", "-n", "argocd", "-o", "json"),
        kubectl(lab, "get", "service", "argocd-server", "-n", "argocd", "-o", "json"),
        kubectl(lab, "get", "secret", "argocd-secret", "-n", "argocd", "-o", "json"),
        kubectl(lab, "get", "configmap", "argocd-cmd-params-cm", "-n", "argocd", "-o", "json"),
        ssa(lab, force=True),                    # server.insecure
        ssa(lab, force=True),                    # argocd-cm: Application health
        ssa(lab, force=True),                    # NodePort
        ssa(lab, force=True),                    # webhook.gogs.secret
        kubectl(lab, "get", "deployment", "argocd-repo-server", "-n", "argocd", "-o", "json"),
        ssa(lab, force=True),                    # the lab's git config file (ConfigMap)
        ssa(lab, force=True),                    # repo-server: mounted, named by GIT_CONFIG_GLOBAL
        kubectl(lab, "rollout", "restart", "deployment/argocd-server", "-n", "argocd"),
        kubectl(lab, "rollout", "status", "deployment/argocd-server", "-n", "argocd", "--timeout=180s"),
        kubectl(lab, "get", "secret", "argocd-initial-admin-secret", "-n", "argocd", "-o", "json"),
        kubectl(lab, "get", "secret", "gitopslab-repo-gitops", "-n", "argocd", "-o", "json"),
        ssa(lab, force=True),                    # repository Secret
        kubectl(lab, "get", "-f", str(gitops / "projects"), "-f", str(gitops / "bootstrap"), "-o", "name"),
        ssa(lab, str(gitops / "projects"), ns="argocd", force=True),
        ssa(lab, str(gitops / "bootstrap"), ns="argocd", force=True),
        f"gitea create-hook {lab.ctx.topo.service('argocd').url}/api/webhook",
    ]
    _assert_lab_state(lab)


def _assert_lab_state(lab: Lab) -> None:
    world, state, topo = lab.world, lab.ctx.state, lab.ctx.topo
    secrets = state.secrets()
    # kubeconfig kept in the state dir, private; the user's ~/.kube/config untouched (no merge command).
    assert state.kubeconfig.read_text().startswith("apiVersion: v1")
    assert stat.S_IMODE(state.kubeconfig.stat().st_mode) == 0o600
    assert secrets["argocd_admin_password"] == world.admin_password
    assert world.get("ConfigMap", "argocd", "argocd-cmd-params-cm")["data"] == {"server.insecure": "true"}
    # Application health restored (Argo CD >= 1.8 has none): the root app's sync waves wait for child apps.
    health = world.get("ConfigMap", "argocd", "argocd-cm")
    assert health["data"][objs.APP_HEALTH_KEY] == objs.APP_HEALTH_LUA
    assert health["metadata"]["labels"]["app.kubernetes.io/name"] == "argocd-cm"  # the install's labels kept
    svc = world.get("Service", "argocd", "argocd-server")["spec"]
    assert svc["type"] == "NodePort"
    assert {p["port"]: p.get("nodePort") for p in svc["ports"]} == {80: 30081, 443: None}
    hook_secret = world.get("Secret", "argocd", "argocd-secret")["data"][objs.WEBHOOK_KEY]
    assert base64.b64decode(hook_secret).decode() == secrets["argocd_webhook_secret"]
    hook = lab.hooks.hooks[objs.webhook_url(topo)]
    assert hook["config"]["secret"] == secrets["argocd_webhook_secret"] and hook["events"] == ["push"]
    repo = world.get("Secret", "argocd", objs.REPO_SECRET)
    assert repo["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    decoded = {k: base64.b64decode(v).decode() for k, v in repo["data"].items()}
    assert decoded["url"] == f"{topo.service('gitea').url}/platform/gitops.git"
    # Argo CD reads with the read-only bot's token, never the site admin's password
    assert decoded["username"] == "gitopslab-argocd" and decoded["password"] == secrets["gitea_argocd_token"]
    assert secrets["gitea_admin_password"] not in decoded.values()
    # Secrets went through stdin only: no command line carries one.
    for call in world.calls:
        for value in (secrets["gitea_argocd_token"], secrets["argocd_webhook_secret"]):
            assert value not in " ".join(call.argv)
    assert world.get("Application", "argocd", "root")["spec"]["project"] == "platform"
    # The repo-server's git reads the lab's config file (Argo CD overrides GIT_CONFIG_COUNT with its own).
    git_config = world.get("ConfigMap", "argocd", objs.GIT_CONFIG)["data"]["gitconfig"]
    assert f"curloptResolve = {topo.service('gitea').hostname}:{topo.service('gitea').port}:" in git_config
    pod = world.get("Deployment", "argocd", objs.REPO_SERVER)["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["GIT_CONFIG_GLOBAL"] == "/etc/gitopslab/gitconfig" and "GIT_CONFIG_COUNT" not in env
    assert world.get("AppProject", "argocd", "platform") is not None
    # The cluster k3d made is the rendered one, kept in the state dir.
    created = world.clusters[topo.cluster_name]["config"]
    assert created == yaml.safe_load(k3d_render.render_config(lab.ctx.cfg, topo, gpu=False))
    assert (state.stored_settings() or {})["cluster"]["ports"]["argocd"] == "8081:30081"
    # The live table showed each app and its final state.
    out = lab.out.getvalue()
    assert "hello-api-dev" in out and "Synced" in out and "Healthy" in out


def test_second_up_changes_nothing(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    up(lab)
    mark = len(lab.world.calls)
    report = up(lab)
    assert [o.action for o in report.outcomes] == ["skipped"] * 11
    again = lab.world.since(mark)
    assert again and [str(c) for c in again if c.changes()] == []
    assert {c.words()[0] for c in again} == {"k3d", "kubectl", "docker"}
    assert [str(c) for c in again if c.words()[0] == "docker"] == [f"docker image inspect {lab.ctx.cfg.image('k3s')}"]


def test_a_lab_with_the_old_git_variables_on_the_repo_server_gets_the_git_config_file(
        make_lab: Callable[..., Lab]) -> None:
    """Labs made before: the repo-server carried GIT_CONFIG_COUNT/KEY/VALUE, which Argo CD overrides.
    The next `up` sees it, applies the ConfigMap and the Deployment again, and the variables are gone."""
    lab = make_lab()
    up(lab)
    deploy = lab.world.get("Deployment", "argocd", objs.REPO_SERVER)
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "GIT_CONFIG_COUNT", "value": "1"},
                        {"name": "GIT_CONFIG_KEY_0", "value": "http.curloptResolve"},
                        {"name": "GIT_CONFIG_VALUE_0", "value": "gitea.localhost:3000:172.30.80.10"}]
    lab.world.objects.pop(("ConfigMap", "argocd", objs.GIT_CONFIG))
    report = up(lab)
    assert {o.name: o.action for o in report.outcomes}["argocd.configure"] == "applied"
    env = {e["name"] for e in lab.world.get("Deployment", "argocd", objs.REPO_SERVER)
           ["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env == {"GIT_CONFIG_GLOBAL"}
    assert lab.world.get("ConfigMap", "argocd", objs.GIT_CONFIG) is not None
    assert [o.action for o in up(lab).outcomes] == ["skipped"] * 11


def test_down_stops_and_up_starts_again(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    up(lab)
    mark = len(lab.world.calls)
    assert lab.layer().stop() is True
    name = lab.ctx.topo.cluster_name
    assert [str(c) for c in lab.world.since(mark)] == ["k3d cluster list -o json", owned_check(lab),
                                                       f"k3d cluster stop {name}"]
    assert lab.world.clusters[name]["running"] is False and lab.ctx.state.kubeconfig.is_file()
    mark = len(lab.world.calls)
    up(lab)
    changing = [str(c) for c in lab.world.since(mark) if c.changes()]
    assert changing == [f"k3d cluster start {name} --wait"]  # the names in coredns-custom outlive the restart


def test_lab_names_for_pods_live_in_coredns_custom_and_are_restored(make_lab: Callable[..., Lab]) -> None:
    """k3s rewrites `coredns` (NodeHosts) when a node starts; `coredns-custom` is the lab's own and is
    put back by `up` when it is missing or stale (issue 11 item 7)."""
    lab = make_lab()
    up(lab)
    topo = lab.ctx.topo
    server = lab.world.get("ConfigMap", "kube-system", "coredns-custom")["data"]["gitopslab.server"]
    for ip, names in topo.pod_host_aliases().items():
        for name in names:
            assert f"        {ip} {name}\n" in server and f"{name}:53" in server.splitlines()[0]
    del lab.world.objects[("ConfigMap", "kube-system", "coredns-custom")]  # lost, or a lab from before
    mark = len(lab.world.calls)
    report = up(lab)
    assert [o.name for o in report.outcomes if o.action == "applied"] == ["cluster.names"]
    assert [str(c) for c in lab.world.since(mark) if c.changes()] == [
        ssa(lab, force=True), kubectl(lab, "rollout", "restart", "deployment/coredns", "-n", "kube-system")]
    assert lab.world.get("ConfigMap", "kube-system", "coredns-custom")["data"]["gitopslab.server"] == server


def test_destroy_deletes_the_cluster_and_its_state(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    up(lab)
    mark = len(lab.world.calls)
    assert lab.layer().remove() is True
    name = lab.ctx.topo.cluster_name
    assert [str(c) for c in lab.world.since(mark)] == ["k3d cluster list -o json", owned_check(lab),
                                                       f"k3d cluster delete {name}"]
    assert lab.world.clusters == {}
    assert not lab.ctx.state.kubeconfig.exists()
    assert "argocd_admin_password" not in lab.ctx.state.secrets()
    assert "cluster" not in (lab.ctx.state.stored_settings() or {})
    mark = len(lab.world.calls)
    assert lab.layer().remove() is False  # nothing left: destroy is idempotent
    assert [str(c) for c in lab.world.since(mark)] == ["k3d cluster list -o json"]


def test_gpu_profile(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(LabConfig(gpu="on"), gpus=[SMI], nvidia_runtime=True)
    layer = lab.layer()
    report = orchestrator.run(lab.ctx, layer.cluster_steps())
    image = k3d_render.node_image(lab.ctx.cfg, gpu=True)
    cfg = lab.ctx.cfg
    assert [o.name for o in report.outcomes] == ["cluster.gpu-image", "cluster.create", "cluster.names", "cluster.edge",
                                                 "cluster.gpu"]
    assert [str(c) for c in lab.world.calls] == [
        "/usr/bin/nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader",
        "docker info --format {{json .Runtimes}}",
        f"docker image inspect {image}",
        f"docker build -t {image} --build-arg K3S_IMAGE={cfg.image('k3s')} "
        f"--build-arg CUDA_IMAGE={cfg.image('k3s-cuda-base')} "
        f"--build-arg NVIDIA_CTK_VERSION={NVIDIA_CONTAINER_TOOLKIT_VERSION} {shipped_dir('images') / 'k3s-cuda'}",
        "k3d cluster list -o json",
        "k3d cluster list -o json",
        f"docker network inspect {lab.ctx.topo.network}",
        f"k3d cluster create --config {layer.config_file}",
        f"k3d kubeconfig get {lab.ctx.topo.cluster_name}",
        kubectl(lab, "get", "configmap", "coredns-custom", "-n", "kube-system", "-o", "json"),
        ssa(lab, force=True),
        kubectl(lab, "rollout", "restart", "deployment/coredns", "-n", "kube-system"),
        "edge start",
        kubectl(lab, "get", "runtimeclass", "nvidia", "-o", "json"),
        ssa(lab),
        ssa(lab, force=True),
    ]
    created = lab.world.clusters[lab.ctx.topo.cluster_name]["config"]
    assert created["image"] == image and created["agents"] == 1
    assert created["options"]["runtime"]["gpuRequest"] == "all"
    assert lab.fetched == [NVIDIA_DEVICE_PLUGIN_URL]
    assert lab.world.get("RuntimeClass", "", "nvidia")["handler"] == "nvidia"
    pod = lab.world.get("DaemonSet", "kube-system", "nvidia-device-plugin-daemonset")["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["nodeSelector"] == dict([k3d_render.GPU_NODE_LABEL.split("=")])
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    # A second run builds nothing and applies nothing.
    mark = len(lab.world.calls)
    orchestrator.run(lab.ctx, lab.layer().cluster_steps())
    assert [str(c) for c in lab.world.since(mark) if c.changes()] == []


def test_gpu_on_without_gpu_is_refused_before_any_change(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(LabConfig(gpu="on"), gpus=[], nvidia_runtime=False)
    with pytest.raises(PreflightError) as err:
        lab.layer().cluster_steps()
    assert "nvidia-smi" in err.value.message and "--gpu off" in (err.value.hint or "")
    assert [c for c in lab.world.calls if c.changes()] == []


def test_gpu_auto_without_gpu_falls_back_to_cpu(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(LabConfig(gpu="auto"), gpus=[SMI], nvidia_runtime=False)
    layer = lab.layer()
    orchestrator.run(lab.ctx, layer.cluster_steps())
    assert lab.notices and "runs on CPU" in lab.notices[0] and "nvidia-ctk" in lab.notices[0]
    created = lab.world.clusters[lab.ctx.topo.cluster_name]["config"]
    assert created["agents"] == 0 and "gpuRequest" not in created["options"]["runtime"]
    assert not any(c.words()[:2] == ["docker", "build"] for c in lab.world.calls)


def test_incompatible_change_is_refused_with_the_recreate_command(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    up(lab)
    mark = len(lab.world.calls)
    changed = LabConfig(ports={"argocd": 8181}, network={"subnet": "172.31.90.0/24"})
    with pytest.raises(IncompatibleChange) as err:
        up(lab, lab.layer(changed))
    message = err.value.message
    assert "ports.argocd: 8081:30081 -> 8181:30081" in message
    assert "subnet: 172.30.80.0/24 -> 172.31.90.0/24" in message
    assert err.value.hint and "gitopslab destroy --yes && gitopslab up" in err.value.hint
    assert err.value.exit_code == 2
    assert [str(c) for c in lab.world.since(mark)] == ["k3d cluster list -o json"]
    # A compatible change (an Argo CD sync timeout) is not refused.
    compatible = lab.layer(LabConfig(timeouts={"argocd_sync": 900}))
    refuse_incompatible(compatible.ctx, compatible)


def test_recreate_command_keeps_the_flags_that_matter(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab(LabConfig(name="ws1", gpu="auto"), gpus=[], nvidia_runtime=False)
    from gitopslab.conductor.guard import recreate_command

    assert recreate_command(lab.ctx) == "gitopslab destroy --yes --name ws1 && gitopslab up --name ws1 --gpu auto"


def test_wait_times_out_with_diagnostics(make_lab: Callable[..., Lab]) -> None:
    degraded = [app("root", "Synced", "Healthy"),
                app("hello-api-dev", "OutOfSync", "Degraded",
                    [{"type": "SyncError", "message": "Failed sync attempt: one or more objects failed to apply"}])]
    lab = make_lab(snapshots=[degraded])
    world = lab.world
    layer = lab.layer()
    steps = [*layer.cluster_steps(), *argocd_layer.argocd_steps(layer)]
    orchestrator.run(lab.ctx, steps[:-1])
    world.put(_pod("app-dev", "hello-api-7d9c", "ImagePullBackOff",
                   'Back-off pulling image "registry.localhost:5002/hello-api:4f2a9c1"'))
    world.put(_event("app-dev", "hello-api-7d9c", "Failed",
                     'Failed to pull image "registry.localhost:5002/hello-api:4f2a9c1": not found'))
    from gitopslab.errors import WaitTimeout

    started = lab.clock.now
    with pytest.raises(WaitTimeout) as err:
        orchestrator.run(lab.ctx, steps[-1:])
    assert lab.clock.now - started >= lab.ctx.cfg.timeouts.argocd_sync
    assert "hello-api-dev OutOfSync/Degraded" in err.value.message
    assert "gitopslab doctor" in (err.value.hint or "") and "gitopslab up" in (err.value.hint or "")
    out = lab.out.getvalue()
    assert "condition SyncError: Failed sync attempt" in out
    assert "app-dev/hello-api-7d9c: Pending, hello-api: ImagePullBackOff" in out
    assert "event Warning Failed: Failed to pull image" in out
    assert not lab.ctx.state.is_done("argocd.synced")


def _pod(ns: str, name: str, reason: str, message: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}],
                       "containerStatuses": [{"name": "hello-api", "ready": False,
                                              "state": {"waiting": {"reason": reason, "message": message}}}]}}


def _event(ns: str, pod: str, reason: str, message: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": f"{pod}.17a", "namespace": ns},
            "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns}, "type": "Warning",
            "reason": reason, "message": message, "lastTimestamp": "2026-11-23T10:00:00Z"}


def test_status_reads_k3d_and_argocd(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    layer = lab.layer()
    assert layer.status() == {"cluster": "gitopslab", "exists": False, "running": False, "nodes": []}
    up(lab)
    status = layer.status()
    assert status["running"] is True
    assert [n["name"] for n in status["nodes"]] == ["k3d-gitopslab-server-0", "k3d-gitopslab-serverlb"]
    assert [(a.name, a.ready) for a in argocd_layer.applications(layer)] == [("root", True), ("hello-api-dev", True)]


def test_the_k3d_config_holding_the_proxy_login_is_private(make_lab: Callable[..., Lab]) -> None:
    """Issue 23.10: k3d/cluster.yaml carries the proxy's login to the nodes; it was written 0644."""
    from gitopslab.model.config import Proxy

    lab = make_lab(LabConfig(proxy=Proxy(http_proxy="http://ada:Pr0xy-Pass@proxy.corp:3128")))
    up(lab)
    config = lab.ctx.state.dir / "k3d" / "cluster.yaml"
    assert "Pr0xy-Pass" in config.read_text(encoding="utf-8")  # k3d needs it, so the file must be private
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
