"""`gitopslab creds`: the only command that prints the lab's credentials."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gitopslab.commands._options import add_lab_options

if TYPE_CHECKING:
    from gitopslab.context import Context

DESCRIPTION = """Print the lab's credentials. They are random, generated once by `up`, kept in the
state dir with mode 0600, and shown only here."""

# (service, user, secret key in state, what it is for)
ENTRIES = [
    ("Gitea", "admin", "gitea_admin_password", "web login; Woodpecker signs in through Gitea"),
    ("Gitea API token", "admin", "gitea_token", "API calls"),
    ("Woodpecker API token", "admin", "woodpecker_token", "woodpecker-cli / API"),
    ("Argo CD", "=admin", "argocd_admin_password", "web login"),
    ("MinIO", "minio_root_user", "minio_root_password", "console and S3 API"),
    ("Grafana", "=admin", "grafana_admin_password", "observability profile"),
]
# (user, secret) "=NAME" is that user as written: Argo CD's is `admin`, and Grafana's is the `admin-user`
# `up` writes into its grafana-admin Secret (stack/app_secrets.py), not the lab's admin user.
# Headlamp signs in with a token of its ServiceAccount (bound to the `view` role, read-only, no Secrets).
DASHBOARD_ACCOUNT = "headlamp"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from gitopslab.commands._options import context_from_args
    from gitopslab.errors import LabError
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args, lab_profiles=True)
    if not ctx.state.secrets_file.exists():
        raise LabError(f"lab {ctx.topo.lab!r} has no credentials yet", hint="run `gitopslab up` first")
    secrets = ctx.state.secrets()
    rows = []
    for service, user, key, purpose in ENTRIES:
        username = (ctx.cfg.admin_user if user == "admin" else user[1:] if user.startswith("=")
                    else secrets.get(user, user))
        rows.append({"service": service, "user": username, "secret": secrets.get(key), "for": purpose})
    token = dashboard_token_command(ctx)
    if ctx.json:
        print_json("creds", {"file": str(ctx.state.secrets_file), "credentials": rows,
                             "dashboard_token_command": token})
        return 0
    table = Table("service", "user", "password / token", "for", title=f"lab {ctx.topo.lab}")
    for row in rows:
        # a password is data: "[b]" in one must print as typed, not vanish into a style
        table.add_row(*(escape(str(row[k])) for k in ("service", "user")),
                      escape(row["secret"] or "(not created yet)"), escape(str(row["for"])))
    console().print(table)
    console().print(f"stored in {ctx.state.secrets_file} (mode 0600)", markup=False)
    console().print(f"cluster dashboard (Headlamp) token, read-only, for 8 hours: {token}", markup=False)
    return 0


def dashboard_token_command(ctx: Context) -> str:
    """The command that makes a Headlamp login token: kubectl with the lab's kubeconfig and context."""
    import shlex

    from gitopslab.drivers.k3d import context_name

    namespace = next((s.namespace for s in ctx.topo.services if s.key == "dashboard"), None) or "platform"
    return " ".join(["kubectl", "--kubeconfig", shlex.quote(str(ctx.state.kubeconfig)), "--context",
                     shlex.quote(context_name(ctx.topo.cluster_name)), "-n", namespace, "create", "token",
                     DASHBOARD_ACCOUNT, "--duration=8h"])
