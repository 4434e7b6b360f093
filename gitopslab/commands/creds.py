"""`gitopslab creds`: the only command that prints the lab's credentials."""

from __future__ import annotations

import argparse

from gitopslab.commands._options import add_lab_options

DESCRIPTION = """Print the lab's credentials. They are random, generated once by `up`, kept in the
state dir with mode 0600, and shown only here."""

# (service, user, secret key in state, what it is for)
ENTRIES = [
    ("Gitea", "admin", "gitea_admin_password", "web login; Woodpecker signs in through Gitea"),
    ("Gitea API token", "admin", "gitea_token", "API calls"),
    ("Woodpecker API token", "admin", "woodpecker_token", "woodpecker-cli / API"),
    ("Argo CD", "admin", "argocd_admin_password", "web login"),
    ("MinIO", "minio_root_user", "minio_root_password", "console and S3 API"),
    ("Grafana", "admin", "grafana_admin_password", "observability profile"),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_options(parser)


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from gitopslab.commands._options import context_from_args
    from gitopslab.errors import LabError
    from gitopslab.ui import console, print_json

    ctx = context_from_args(args)
    if not ctx.state.secrets_file.exists():
        raise LabError(f"lab {ctx.topo.lab!r} has no credentials yet", hint="run `gitopslab up` first")
    secrets = ctx.state.secrets()
    rows = []
    for service, user, key, purpose in ENTRIES:
        username = ctx.cfg.admin_user if user == "admin" else secrets.get(user, user)
        if service == "Argo CD":
            username = "admin"
        rows.append({"service": service, "user": username, "secret": secrets.get(key), "for": purpose})
    if ctx.json:
        print_json("creds", {"file": str(ctx.state.secrets_file), "credentials": rows})
        return 0
    table = Table("service", "user", "password / token", "for", title=f"lab {ctx.topo.lab}")
    for row in rows:
        # a password is data: "[b]" in one must print as typed, not vanish into a style
        table.add_row(*(escape(str(row[k])) for k in ("service", "user")),
                      escape(row["secret"] or "(not created yet)"), escape(str(row["for"])))
    console().print(table)
    console().print(f"stored in {ctx.state.secrets_file} (mode 0600)", markup=False)
    return 0
