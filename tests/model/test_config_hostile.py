"""Hostile configuration files and values: a clear exit 2 naming the problem, never a traceback, a hang,
a memory blow-up or a flood; and values that were accepted wrongly (issue 12, items 11 and 12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitopslab.errors import ConfigError
from gitopslab.model.config import load_config


def gl(*args: str, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gitopslab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "NO_COLOR": "1"})


def refused(tmp_path: Path, *args: str, timeout: float = 30) -> str:
    proc = gl("config", *args, cwd=tmp_path, timeout=timeout)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    return proc.stderr


def problems(data: dict) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(None, {}, data)
    return "\n".join(err.value.problems)


# --- item 11: files ------------------------------------------------------------------------------

def test_non_utf8_file_is_named_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_bytes(b"name: caf\xe9\n")
    err = refused(tmp_path, "validate")
    assert "gitopslab.yaml: not UTF-8 text" in err and "save it as UTF-8" in err


def test_deeply_nested_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text("name: " + "[" * 20000 + "]" * 20000 + "\n")
    assert "nested too deeply" in refused(tmp_path, "validate")


def test_moderately_nested_file_is_refused_before_validation(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text("images: " + "[" * 50 + "]" * 50 + "\n")
    assert "nests deeper than" in refused(tmp_path, "validate")


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    err = refused(tmp_path, "validate", "--config", str(fifo), timeout=20)  # the old code blocked forever
    assert "pipe.yaml: is not a regular file" in err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this OS")
def test_dev_zero_is_refused_without_reading_it(tmp_path: Path) -> None:
    assert "/dev/zero: is not a regular file" in refused(tmp_path, "validate", "--config", "/dev/zero", timeout=20)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    assert "is not a regular file" in refused(tmp_path, "validate", "--config", str(tmp_path))


def test_a_huge_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text("# padding\n" * 100_000 + "name: big\n")
    assert "too large for lab settings" in refused(tmp_path, "validate")


def alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_gives_a_short_message(tmp_path: Path) -> None:
    bomb = alias_bomb()
    assert len(bomb) < 400  # a few hundred bytes standing for 9**9 strings
    (tmp_path / "gitopslab.yaml").write_text(bomb + "name: *i\n")
    proc = gl("config", "validate", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "expands to more than" in proc.stderr
    assert len(proc.stderr) < 2000  # the old message was 58 MB


def test_shown_values_are_shortened(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text(f"name: {'x' * 100_000}\nadmin_user: [{', '.join(['a'] * 500)}]\n")
    err = refused(tmp_path, "validate")
    assert "name: " in err and "admin_user: " in err
    assert len(err) < 2000 and "xxx'..." in err


# --- item 12: values accepted wrongly ------------------------------------------------------------

def test_a_boolean_is_not_a_port_or_a_timeout() -> None:
    text = problems({"ports": {"gitea": True}, "timeouts": {"http": False}})
    assert "ports.gitea: must be a number, not true" in text
    assert "timeouts.http: must be a number, not false" in text


def test_env_numbers_still_work() -> None:
    assert load_config(None, {"GITOPSLAB_PORTS__GITEA": "3300"}, {}).ports.gitea == 3300


def test_privileged_ports_are_refused_with_the_reason() -> None:
    text = problems({"ports": {"gitea": 80, "registry": 443}})
    assert "ports.gitea: port 80 is privileged (below 1024)" in text and "1024 to 65535" in text
    assert "ports.registry: port 443 is privileged" in text


@pytest.mark.parametrize("name", ["github.com", "gitea.localhost.evil.com", "gité.localhost",
                                  "xn--git-fpa.com", "gitea.localhost\n127.0.0.1 github.com"])
def test_hostnames_outside_localhost_are_refused(name: str) -> None:
    assert "hostnames.gitea: must" in problems({"hostnames": {"gitea": name}})


def test_hosts_apply_cannot_map_a_real_name(tmp_path: Path) -> None:
    """The attack: a shared gitopslab.yaml plus `sudo gitopslab hosts --apply`."""
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    (tmp_path / "gitopslab.yaml").write_text("hostnames:\n  gitea: github.com\n")
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "hosts", "--apply"], cwd=tmp_path, text=True,
                          capture_output=True, timeout=30,
                          env={**os.environ, "NO_COLOR": "1", "GITOPSLAB_HOSTS_FILE": str(hosts)})
    assert proc.returncode == 2 and "end in .localhost" in proc.stderr
    assert hosts.read_text() == "127.0.0.1 localhost\n"


def test_uppercase_localhost_names_are_lowered() -> None:
    assert load_config(None, {}, {"hostnames": {"gitea": "Git.LocalHost"}}).hostnames.gitea == "git.localhost"


@pytest.mark.parametrize("name", ["a\nb", 'lab"; rm -rf /', "lab name", "-lab", "x" * 70])
def test_network_names_with_newlines_quotes_or_spaces_are_refused(name: str) -> None:
    assert "network.name: " in problems({"network": {"name": name}})


def test_docker_style_network_names_are_accepted() -> None:
    assert load_config(None, {}, {"network": {"name": "my_lab.net-1"}}).network.name == "my_lab.net-1"


@pytest.mark.parametrize("subnet", ["8.8.8.0/24", "127.0.0.0/24", "169.254.0.0/24", "100.64.0.0/24",
                                    "172.32.0.0/24"])
def test_public_or_loopback_subnets_are_refused(subnet: str) -> None:
    assert "network.subnet: must be a private range" in problems({"network": {"subnet": subnet}})


@pytest.mark.parametrize("subnet", ["10.5.0.0/24", "172.31.4.0/24", "192.168.77.0/24"])
def test_private_subnets_are_accepted(subnet: str) -> None:
    assert load_config(None, {}, {"network": {"subnet": subnet}}).network.subnet == subnet


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e300])
def test_infinite_nan_or_endless_timeouts_are_refused(value: float) -> None:
    assert "timeouts.service_ready: " in problems({"timeouts": {"service_ready": value}})


def test_infinite_timeout_in_yaml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text("timeouts:\n  argocd_sync: .inf\nresources:\n  cpus: .nan\n")
    err = refused(tmp_path, "validate")
    assert "timeouts.argocd_sync: Input should be a finite number" in err
    assert "resources.cpus: Input should be a finite number" in err


@pytest.mark.parametrize("email", ["admin@lab.localhost\nBcc: x@y.z", "admin", "a b@c.d", "@lab.localhost"])
def test_bad_emails_are_refused(email: str) -> None:
    assert "admin_email: " in problems({"admin_email": email})


def test_proxy_values_with_newlines_are_refused() -> None:
    text = problems({"proxy": {"http_proxy": "http://p:3128\nEVIL=1"}})
    assert "proxy.http_proxy: must be one URL" in text


def test_image_overrides_with_control_characters_are_refused() -> None:
    assert "images: image for 'gitea' must be a reference" in problems({"images": {"gitea": "gitea:1\x00evil"}})


# --- issue 23 item 15 ------------------------------------------------------------------------------

def test_a_5000_digit_port_in_a_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    # PyYAML's int() raised ValueError (Python's 4300-digit limit), which nothing caught.
    (tmp_path / "gitopslab.yaml").write_text("ports:\n  gitea: " + "9" * 5000 + "\n")
    err = refused(tmp_path, "validate")
    assert "gitopslab.yaml: holds a value Python refuses to read" in err and "short number" in err


def test_a_5000_digit_port_from_the_environment_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, {"GITOPSLAB_PORTS__GITEA": "9" * 5000}, {})
    assert "ports.gitea" in err.value.problems[0] and len(err.value.problems[0]) < 400


def test_thousands_of_unknown_keys_print_a_short_list(tmp_path: Path) -> None:
    (tmp_path / "gitopslab.yaml").write_text("".join(f"k{i}: 1\n" for i in range(4900)))
    err = refused(tmp_path, "validate")
    assert len(err) < 10_000, len(err)  # was 905 KB
    assert "k0: unknown setting" in err and "4880 more problems not shown" in err


@pytest.mark.parametrize("order", [("GITOPSLAB_PORTS", "GITOPSLAB_PORTS__GITEA"),
                                   ("GITOPSLAB_PORTS__GITEA", "GITOPSLAB_PORTS")])
def test_a_group_set_as_a_value_and_by_field_is_named(order: tuple[str, str]) -> None:
    values = {"GITOPSLAB_PORTS": "5", "GITOPSLAB_PORTS__GITEA": "3000"}
    environ = {key: values[key] for key in order}  # the old code raised TypeError in one order
    with pytest.raises(ConfigError) as err:
        load_config(None, environ, {})
    text = "\n".join(err.value.problems)
    assert "GITOPSLAB_PORTS is a group of settings" in text and "GITOPSLAB_PORTS__<FIELD>" in text


def test_a_group_clash_exits_2_from_the_cli(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gitopslab", "config", "validate"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=30,
                          env={**{k: v for k, v in os.environ.items() if k != "GITOPSLAB_PORTS__GITEA"},
                               "GITOPSLAB_PORTS": "5", "GITOPSLAB_PORTS__GITEA": "3000", "NO_COLOR": "1"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "GITOPSLAB_PORTS is a group of settings" in proc.stderr


def test_a_file_cannot_give_host_root_to_an_unpinned_image(tmp_path: Path) -> None:
    # An untrusted gitopslab.yaml in the current folder set the agent's image, which gets the engine socket.
    (tmp_path / "gitopslab.yaml").write_text("images:\n  woodpecker-agent: evil.example/agent:1\n"
                                             "  gitea: g.example/gitea:1\n")
    err = refused(tmp_path, "validate")
    assert "images.woodpecker-agent: 'evil.example/agent:1' is not the pinned" in err
    assert "engine's socket" in err and "GITOPSLAB_ALLOW_IMAGES=woodpecker-agent" in err
    assert "images.gitea" not in err  # Gitea's container holds no host root


def test_the_user_allows_a_host_root_image_by_name(tmp_path: Path) -> None:
    path = tmp_path / "gitopslab.yaml"
    path.write_text("images:\n  k3s: my.example/k3s:v1\n")
    cfg = load_config(path, {"GITOPSLAB_ALLOW_IMAGES": "k3s"}, {})
    assert cfg.image("k3s") == "my.example/k3s:v1"
    with pytest.raises(ConfigError) as err:
        load_config(path, {"GITOPSLAB_ALLOW_IMAGES": "woodpecker-agent"}, {})
    assert "images.k3s" in "\n".join(err.value.problems)
    # The user's own environment is trusted as it is (no file involved).
    assert load_config(None, {"GITOPSLAB_IMAGES__K3S": "my.example/k3s:v1"}, {}).image("k3s") == "my.example/k3s:v1"
