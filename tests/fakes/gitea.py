"""A stateful fake of Gitea 1.26.3: its REST API validated against gitea-swagger.v1.json, the web routes
of the sign-in and OAuth2 flow served as Gitea's handlers do (routers/web/auth, routers/web/auth/
oauth.go), git smart HTTP through the real `git http-backend`, and the `gitea admin user create` CLI.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import Call, FakeServer, Reply, redirect
from tests.fakes.swagger import ContractViolation, Operation, Spec

HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"
_SCOPE_CATEGORIES = {"activitypub", "admin", "issue", "misc", "notification", "organization", "package",
                     "repository", "user"}
_UNITS = {"repo.code", "repo.issues", "repo.ext_issues", "repo.wiki", "repo.ext_wiki", "repo.pulls",
          "repo.releases", "repo.projects", "repo.packages", "repo.actions"}


@dataclass
class User:
    id: int
    name: str
    email: str
    password: str
    admin: bool
    must_change_password: bool

    def api(self) -> dict[str, Any]:
        return {"id": self.id, "login": self.name, "login_name": "", "email": self.email, "is_admin": self.admin,
                "full_name": "", "active": True, "prohibit_login": False, "restricted": False}


@dataclass
class ExecResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""


@dataclass
class Session:
    user: str | None = None
    pending: dict[str, str] = field(default_factory=dict)   # what /login/oauth/authorize stored


class FakeGitea(FakeServer):
    name = "gitea"

    def __init__(self, spec: Spec, root: Path, hostname: str = "gitea.localhost") -> None:
        super().__init__(hostname)
        self.spec = spec
        self.git_root = root / "repositories"
        self.git_root.mkdir(parents=True, exist_ok=True)
        self.users: dict[str, User] = {}
        self.tokens: dict[str, dict[str, Any]] = {}       # value -> {id, name, user, scopes}
        self.orgs: dict[str, dict[str, Any]] = {}
        self.teams: dict[int, dict[str, Any]] = {}
        self.members: dict[int, set[str]] = {}
        self.repos: dict[str, dict[str, Any]] = {}        # "owner/name" -> repo
        self.protections: dict[str, dict[str, dict[str, Any]]] = {}
        self.hooks: dict[str, list[dict[str, Any]]] = {}
        self.apps: dict[int, dict[str, Any]] = {}
        self.grants: set[tuple[str, str]] = set()          # (user, client_id)
        self.codes: dict[str, dict[str, str]] = {}
        self.access_tokens: dict[str, str] = {}            # OAuth2 access token -> user
        self.sessions: dict[str, Session] = {}
        self._ids = iter(range(1, 10_000))

    def _id(self) -> int:
        return next(self._ids)

    # --- the CLI, as `docker exec -u git <gitea> gitea ...` would run it ------------------------------
    def exec(self, argv: list[str] | tuple[str, ...], *, user: str) -> ExecResult:
        argv = list(argv)
        if user != "git":
            return ExecResult(1, "", "Gitea is not supposed to be run as root. Sorry. Run as user 'git'.")
        if argv[:4] != ["gitea", "admin", "user", "create"]:
            raise ContractViolation(f"fake gitea CLI: unknown command {argv[:4]}")
        parser = argparse.ArgumentParser(prog="gitea admin user create", exit_on_error=False, add_help=False)
        for flag in ("--username", "--password", "--email", "--user-type", "--access-token-name",
                     "--access-token-scopes", "--must-change-password", "--random-password-length"):
            parser.add_argument(flag)
        for flag in ("--admin", "--random-password", "--access-token", "--restricted"):
            parser.add_argument(flag, action="store_true")
        try:
            opts, rest = parser.parse_known_args(argv[4:])
        except argparse.ArgumentError as exc:
            raise ContractViolation(f"fake gitea CLI: {exc}") from None
        if rest:
            raise ContractViolation(f"fake gitea CLI: flags not defined by `gitea admin user create`: {rest}")
        if not opts.username or not opts.email:
            return ExecResult(1, "", "Command error: --username and --email are required")
        if opts.username in self.users:
            return ExecResult(1, "", f"Command error: CreateUser: user already exists [name: {opts.username}]")
        if not opts.password and not opts.random_password:
            return ExecResult(1, "", "Command error: must set either password or random-password flag")
        must_change = (opts.must_change_password or ("false" if not self.users else "true")) == "true"
        # upstream (cmd/admin_user_create.go) prints a generated password on stdout
        password = opts.password or secrets.token_urlsafe(int(opts.random_password_length or 12))
        shown = "" if opts.password else f"generated random password is '{password}'\n"
        self.users[opts.username] = User(self._id(), opts.username, opts.email, password,
                                         bool(opts.admin), must_change)
        return ExecResult(0, f"{shown}New user '{opts.username}' has been successfully created!\n", "")

    # --- routing -----------------------------------------------------------------------------------
    def handle(self, call: Call) -> Reply:
        origin = call.headers.get("origin")
        if origin and origin.split("://")[-1] != call.headers.get("host"):
            raise ContractViolation(f"{call.method} {call.path}: cross-origin request (Origin {origin})")
        if call.path.startswith("/api/v1/"):
            return self._api(call)
        web = {
            ("GET", "/api/healthz"): lambda c: Reply(200, {"status": "pass"}),
            ("GET", "/user/login"): self._login_page,
            ("POST", "/user/login"): self._login,
            ("GET", "/login/oauth/authorize"): self._authorize,
            ("POST", "/login/oauth/grant"): self._grant,
            ("POST", "/login/oauth/access_token"): self._access_token,
        }.get((call.method, call.path))
        if web:
            return web(call)
        if ".git/" in call.path:
            return self._git(call)
        raise ContractViolation(f"{call.method} {call.path}: not a Gitea route")

    # --- web: sign-in and OAuth2 -------------------------------------------------------------------
    def _session(self, call: Call) -> Session | None:
        sid = call.cookie("i_like_gitea")
        return self.sessions.get(sid) if sid else None

    def _new_session(self, user: str | None) -> tuple[Session, str]:
        sid = secrets.token_hex(8)
        self.sessions[sid] = Session(user=user)
        return self.sessions[sid], f"i_like_gitea={sid}; Path=/; HttpOnly; SameSite=Lax"

    def _login_page(self, call: Call) -> Reply:
        _, cookie = self._new_session(None)
        return Reply(200, "<form action=/user/login method=post>", [("Set-Cookie", cookie)], "text/html")

    def _login(self, call: Call) -> Reply:
        form = call.form()
        unknown = set(form) - {"user_name", "password", "remember", "_csrf"}
        if unknown:
            raise ContractViolation(f"POST /user/login: fields the sign-in form does not have: {sorted(unknown)}")
        user = self.users.get(form.get("user_name", ""))
        if user is None or user.password != form.get("password"):
            return Reply(200, "<div class=error>Username or password is incorrect.</div>", [], "text/html")
        _, cookie = self._new_session(user.name)
        return redirect("/user/settings/change_password" if user.must_change_password else "/", cookie)

    def _authorize(self, call: Call) -> Reply:
        q = {k: v[0] for k, v in call.query.items()}
        session = self._session(call)
        if session is None or session.user is None:
            return redirect("/user/login?" + urlencode({"redirect_to": call.path}))
        app = next((a for a in self.apps.values() if a["client_id"] == q.get("client_id")), None)
        if app is None or q.get("response_type") != "code":
            return Reply(400, "invalid client_id or response_type", content_type="text/plain")
        if q.get("redirect_uri") not in app["redirect_uris"]:
            return Reply(400, "Unregistered Redirect URI", content_type="text/plain")
        if not app["confidential_client"] and not q.get("code_challenge"):
            return redirect(q["redirect_uri"] + "?" + urlencode({"error": "invalid_request", "state": q.get("state", "")}))
        if (session.user, app["client_id"]) in self.grants:
            return redirect(self._issue_code(session.user, q))
        session.pending = {k: q.get(k, "") for k in ("client_id", "redirect_uri", "state", "scope", "nonce")}
        return Reply(200, "<form action=/login/oauth/grant method=post>consent", [], "text/html")

    def _grant(self, call: Call) -> Reply:
        form = call.form()
        session = self._session(call)
        expected = session.pending if session else {}
        if not session or session.user is None or not expected:
            return Reply(400, "no authorization in progress for this session", content_type="text/plain")
        if set(form) != set(expected) | {"granted"} or any(form[k] != v for k, v in expected.items()):
            return Reply(400, f"grant form does not echo the authorize request: {sorted(form)}", content_type="text/plain")
        if form["granted"] != "true":
            return redirect(expected["redirect_uri"] + "?error=access_denied")
        self.grants.add((session.user, expected["client_id"]))
        session.pending = {}
        return redirect(self._issue_code(session.user, expected))

    def _issue_code(self, user: str, q: dict[str, str]) -> str:
        code = secrets.token_hex(10)
        self.codes[code] = {"user": user, "client_id": q["client_id"], "redirect_uri": q["redirect_uri"]}
        return q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", "")})

    def _access_token(self, call: Call) -> Reply:
        form = call.form()
        grant = self.codes.pop(form.get("code", ""), None)
        app = next((a for a in self.apps.values() if a["client_id"] == form.get("client_id")), None)
        if (grant is None or app is None or app["client_secret"] != form.get("client_secret")
                or grant["client_id"] != app["client_id"] or grant["redirect_uri"] != form.get("redirect_uri")):
            return Reply(400, {"error": "invalid_grant", "error_description": "client or code invalid"})
        token = secrets.token_hex(20)
        self.access_tokens[token] = grant["user"]
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600,
                           "refresh_token": secrets.token_hex(20)})

    # --- git smart HTTP ----------------------------------------------------------------------------
    def _git(self, call: Call) -> Reply:
        owner_repo = call.path.split(".git/")[0].strip("/")
        if owner_repo not in self.repos:
            return Reply(404, "Not found", content_type="text/plain")
        user, scopes = self._auth(call)
        pushing = "git-receive-pack" in call.path or call.query.get("service") == ["git-receive-pack"]
        if user is None:
            return Reply(401, "Unauthorized", [("WWW-Authenticate", 'Basic realm="Gitea"')], "text/plain")
        if pushing and not _scope_ok(scopes, "repository", write=True):
            return Reply(403, "token does not have the required scope write:repository", content_type="text/plain")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": str(self.git_root),
               "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": call.path, "QUERY_STRING": urlencode(call.query, doseq=True),
               "REQUEST_METHOD": call.method, "REMOTE_USER": user.name, "REMOTE_ADDR": "127.0.0.1",
               "CONTENT_TYPE": call.headers.get("content-type", ""), "CONTENT_LENGTH": str(len(call.body))}
        if call.headers.get("content-encoding"):
            env["HTTP_CONTENT_ENCODING"] = call.headers["content-encoding"]
        out = subprocess.run([HTTP_BACKEND], input=call.body, env=env, capture_output=True, timeout=60).stdout
        head, _, body = out.partition(b"\r\n\r\n")
        status, headers, ctype = 200, [], "text/plain"
        for line in head.decode().split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key.lower() == "content-type":
                ctype = value.strip()
            elif key:
                headers.append((key, value.strip()))
        return Reply(status, body, headers, ctype)

    def git_files(self, owner_repo: str, branch: str = "main") -> dict[str, str]:
        """What was pushed: path -> content at the branch head."""
        git_dir = self.git_root / f"{owner_repo}.git"
        names = subprocess.run(["git", "--git-dir", str(git_dir), "ls-tree", "-r", "--name-only", branch],
                               capture_output=True, text=True, check=True).stdout.split()
        return {n: subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{branch}:{n}"],
                                  capture_output=True, text=True, check=True).stdout for n in names}

    def _repo_empty(self, owner_repo: str) -> bool:
        git_dir = self.git_root / f"{owner_repo}.git"
        refs = subprocess.run(["git", "--git-dir", str(git_dir), "for-each-ref"], capture_output=True, text=True)
        return not refs.stdout.strip()

    # --- auth --------------------------------------------------------------------------------------
    def _auth(self, call: Call) -> tuple[User | None, list[str] | None]:
        """(user, token scopes); scopes None = basic auth (password), which has every right."""
        header = call.headers.get("authorization", "")
        kind, _, value = header.partition(" ")
        if kind.lower() == "basic":
            name, _, password = base64.b64decode(value).decode().partition(":")
            user = self.users.get(name)
            if user and user.password == password:
                return user, None
            token = self.tokens.get(password)
            return (self.users[token["user"]], token["scopes"]) if token and token["user"] == name else (None, None)
        if kind.lower() in {"token", "bearer"}:
            if value in self.tokens:
                return self.users[self.tokens[value]["user"]], self.tokens[value]["scopes"]
            if value in self.access_tokens:
                return self.users[self.access_tokens[value]], ["all"]
        return None, None

    # --- API ---------------------------------------------------------------------------------------
    def _api(self, call: Call) -> Reply:
        op = self.spec.validate(call.method, call.path, call.query, call.body)
        if op.op_id == "getVersion":
            return Reply(200, {"version": "1.26.3"})
        user, scopes = self._auth(call)
        if user is None:
            return Reply(401, {"message": "token is required", "url": f"{self.url}/api/swagger"})
        if user.must_change_password:
            return Reply(403, {"message": "You must change your password. Change it at: /user/change_password"})
        if op.op_id.startswith("userGetTokens") or op.op_id in {"userCreateToken", "userDeleteAccessToken"}:
            if scopes is not None:
                return Reply(401, {"message": "auth required: basic auth is needed to manage tokens"})
        else:
            category = _category(op.template)
            if scopes is not None and category and not _scope_ok(scopes, category, write=call.method != "GET"):
                need = f"{'write' if call.method != 'GET' else 'read'}:{category}"
                return Reply(403, {"message": f"token does not have at least one of required scope(s): [{need}]"})
        handler = getattr(self, f"op_{op.op_id}", None)
        if handler is None:
            raise ContractViolation(f"{op.method} {op.template}: defined upstream ({op.op_id}) but not served by "
                                    "this fake; extend tests/fakes/gitea.py")
        return handler(op, user)

    def op_repoListHooks(self, op: Operation, user: User) -> Reply:
        hooks = self.hooks.get(f"{op.params['owner']}/{op.params['repo']}", [])
        # Gitea never returns a hook's secret
        return Reply(200, [{**h, "config": {k: v for k, v in h.get("config", {}).items() if k != "secret"}}
                           for h in hooks])

    def issue_token(self, user: str, name: str, scopes: list[str]) -> str:
        """A token as Gitea would have minted it earlier (for tests that start from an older lab)."""
        value = secrets.token_hex(20)
        self.tokens[value] = {"id": self._id(), "name": name, "user": user, "scopes": scopes}
        return value

    def op_adminCreateUser(self, op: Operation, user: User) -> Reply:
        if not user.admin:
            return Reply(403, {"message": "user should be the site admin"})
        body = op.body or {}
        if body["username"] in self.users or body["username"] in self.orgs:
            return Reply(422, {"message": "user already exists"})
        created = User(self._id(), body["username"], body["email"], body.get("password", ""), False,
                       bool(body.get("must_change_password", True)))
        self.users[created.name] = created
        return Reply(201, created.api())

    def op_userGet(self, op: Operation, user: User) -> Reply:
        found = self.users.get(op.params["username"])
        return Reply(200, found.api()) if found else Reply(404, {"message": "user does not exist"})

    def op_orgListTeamRepo(self, op: Operation, user: User) -> Reply:
        team, key = self.teams.get(int(op.params["id"])), f"{op.params['org']}/{op.params['repo']}"
        if team is None or key not in team.get("repos", set()):
            return Reply(404, {"message": "not found"})
        return Reply(200, self._repo_api(key))

    def op_orgAddTeamRepository(self, op: Operation, user: User) -> Reply:
        team, key = self.teams.get(int(op.params["id"])), f"{op.params['org']}/{op.params['repo']}"
        if team is None or key not in self.repos:
            return Reply(404, {"message": "not found"})
        team.setdefault("repos", set()).add(key)
        return Reply(204)

    def op_adminEditUser(self, op: Operation, user: User) -> Reply:
        if not user.admin:
            return Reply(403, {"message": "user should be the site admin"})
        target = self.users.get(op.params["username"])
        if target is None:
            return Reply(404, {"message": "user does not exist"})
        body = op.body or {}
        if "password" in body:
            target.password = body["password"]
        if "must_change_password" in body:
            target.must_change_password = bool(body["must_change_password"])
        return Reply(200, target.api())

    def op_userGetCurrent(self, op: Operation, user: User) -> Reply:
        return Reply(200, user.api())

    def op_userGetTokens(self, op: Operation, user: User) -> Reply:
        mine = [t for t in self.tokens.values() if t["user"] == op.params["username"]]
        return Reply(200, [{"id": t["id"], "name": t["name"], "scopes": t["scopes"]} for t in mine])

    def op_userCreateToken(self, op: Operation, user: User) -> Reply:
        body = op.body or {}
        scopes = body.get("scopes") or []
        if not scopes:
            return Reply(400, {"message": "access token must have a scope"})
        for scope in scopes:
            level, _, category = scope.partition(":")
            if scope != "all" and (level not in {"read", "write"} or category not in _SCOPE_CATEGORIES):
                return Reply(400, {"message": f"invalid access token scope: {scope}"})
        if any(t["user"] == user.name and t["name"] == body["name"] for t in self.tokens.values()):
            return Reply(400, {"message": "access token name has been used already"})
        value = secrets.token_hex(20)
        self.tokens[value] = {"id": self._id(), "name": body["name"], "user": user.name, "scopes": scopes}
        return Reply(201, {"id": self.tokens[value]["id"], "name": body["name"], "sha1": value,
                           "token_last_eight": value[-8:], "scopes": scopes})

    def op_userDeleteAccessToken(self, op: Operation, user: User) -> Reply:
        key = op.params["token"]
        for value, t in list(self.tokens.items()):
            if t["user"] == user.name and key in {t["name"], str(t["id"])}:
                del self.tokens[value]
                return Reply(204)
        return Reply(404, {"message": "token not found"})

    def op_orgGet(self, op: Operation, user: User) -> Reply:
        org = self.orgs.get(op.params["org"])
        return Reply(200, org) if org else Reply(404, {"message": "org not found"})

    def op_orgCreate(self, op: Operation, user: User) -> Reply:
        body = op.body
        if body["username"] in self.orgs or body["username"] in self.users:
            return Reply(422, {"message": "user already exists"})
        org = {"id": self._id(), "name": body["username"], "username": body["username"], **{
            k: body.get(k, "") for k in ("full_name", "description", "website", "location")},
            "visibility": body.get("visibility", "public")}
        self.orgs[org["name"]] = org
        owners = {"id": self._id(), "name": "Owners", "permission": "owner", "org": org["name"],
                  "includes_all_repositories": True, "units_map": {}, "description": "", "can_create_org_repo": True}
        self.teams[owners["id"]] = owners
        self.members[owners["id"]] = {user.name}
        return Reply(201, org)

    def op_orgListTeams(self, op: Operation, user: User) -> Reply:
        if op.params["org"] not in self.orgs:
            return Reply(404, {"message": "org not found"})
        return Reply(200, [_team_api(t) for t in self.teams.values() if t["org"] == op.params["org"]])

    def op_orgCreateTeam(self, op: Operation, user: User) -> Reply:
        body, org = op.body or {}, op.params["org"]
        if any(t["org"] == org and t["name"].lower() == body["name"].lower() for t in self.teams.values()):
            return Reply(422, {"message": "team already exists"})
        team = self._team_from(body, {"id": self._id(), "org": org})
        if isinstance(team, Reply):
            return team
        self.teams[team["id"]] = team
        self.members[team["id"]] = set()
        return Reply(201, _team_api(team))

    def op_orgEditTeam(self, op: Operation, user: User) -> Reply:
        team = self.teams.get(int(op.params["id"]))
        if team is None:
            return Reply(404, {"message": "team not found"})
        updated = self._team_from(op.body or {}, dict(team))
        if isinstance(updated, Reply):
            return updated
        self.teams[team["id"]] = updated
        return Reply(200, _team_api(updated))

    def _team_from(self, body: dict[str, Any], team: dict[str, Any]) -> dict[str, Any] | Reply:
        permission = body.get("permission", team.get("permission", "read"))
        units_map = body.get("units_map") or {u: permission for u in body.get("units", [])}
        if permission != "admin" and not units_map:
            return Reply(500, {"message": "units permission should not be empty"})
        if set(units_map) - _UNITS or set(units_map.values()) - {"none", "read", "write", "admin"}:
            return Reply(422, {"message": f"invalid units: {units_map}"})
        team.update({k: body[k] for k in ("name", "description", "includes_all_repositories", "can_create_org_repo")
                     if k in body})
        # routers/api/v1/org/team.go (1.26): ParseAccessMode(form.Permission, None, Admin): "read" and
        # "write" are not among the allowed modes, so a units team reports "none" (seen on the real Gitea).
        team["permission"] = "admin" if permission == "admin" else "none"
        team["units_map"] = {u: "admin" for u in sorted(_UNITS)} if permission == "admin" else dict(units_map)
        return team

    def op_orgListTeamMember(self, op: Operation, user: User) -> Reply:
        team_id, name = int(op.params["id"]), op.params["username"]
        if team_id not in self.teams or name not in self.members.get(team_id, set()):
            return Reply(404, {"message": "not a member"})
        return Reply(200, self.users[name].api())

    def op_orgAddTeamMember(self, op: Operation, user: User) -> Reply:
        team_id, name = int(op.params["id"]), op.params["username"]
        if team_id not in self.teams or name not in self.users:
            return Reply(404, {"message": "not found"})
        self.members[team_id].add(name)
        return Reply(204)

    def _repo_api(self, key: str) -> dict[str, Any]:
        repo = dict(self.repos[key])
        repo["empty"] = self._repo_empty(key)
        return repo

    def op_repoGet(self, op: Operation, user: User) -> Reply:
        key = f"{op.params['owner']}/{op.params['repo']}"
        return Reply(200, self._repo_api(key)) if key in self.repos else Reply(404, {"message": "repo not found"})

    def op_repoListBranches(self, op: Operation, user: User) -> Reply:
        key = f"{op.params['owner']}/{op.params['repo']}"
        if key not in self.repos:
            return Reply(404, {"message": "repo not found"})
        heads = subprocess.run(["git", "--git-dir", str(self.git_root / f"{key}.git"), "for-each-ref",
                                "--format=%(refname:short) %(objectname)", "refs/heads"],
                               capture_output=True, text=True).stdout.split("\n")
        return Reply(200, [{"name": n, "commit": {"id": sha}} for n, sha in (h.split() for h in heads if h)])

    def op_repoGetByID(self, op: Operation, user: User) -> Reply:
        key = next((k for k, r in self.repos.items() if r["id"] == int(op.params["id"])), None)
        return Reply(200, self._repo_api(key)) if key else Reply(404, {"message": "repo not found"})

    def op_createOrgRepo(self, op: Operation, user: User) -> Reply:
        org, body = op.params["org"], op.body or {}
        key = f"{org}/{body['name']}"
        if org not in self.orgs:
            return Reply(404, {"message": "org not found"})
        if key in self.repos:
            return Reply(409, {"message": "The repository with the same name already exists."})
        branch = body.get("default_branch") or "main"
        subprocess.run(["git", "init", "-q", "--bare", "-b", branch, str(self.git_root / f"{key}.git")], check=True)
        url = f"{self.url}/{key}"
        self.repos[key] = {"id": self._id(), "name": body["name"], "full_name": key, "private": body.get("private", False),
                           "default_branch": branch, "description": body.get("description", ""),
                           "html_url": url, "clone_url": f"{url}.git", "owner": self.orgs[org],
                           "permissions": {"admin": True, "push": True, "pull": True}}
        return Reply(201, self._repo_api(key))

    def op_repoGetBranchProtection(self, op: Operation, user: User) -> Reply:
        rules = self.protections.get(f"{op.params['owner']}/{op.params['repo']}", {})
        rule = rules.get(op.params["name"])
        return Reply(200, rule) if rule else Reply(404, {"message": "branch protection not found"})

    def op_repoCreateBranchProtection(self, op: Operation, user: User) -> Reply:
        key, body = f"{op.params['owner']}/{op.params['repo']}", op.body or {}
        name = body.get("rule_name") or body.get("branch_name")
        if key not in self.repos or not name:
            return Reply(404, {"message": "repo not found"}) if key not in self.repos else Reply(422, {"message": "no rule name"})
        rules = self.protections.setdefault(key, {})
        if name in rules:
            return Reply(403, {"message": "Branch protection already exist"})
        if (bad := self._unknown_teams(op.params["owner"], body)) is not None:
            return bad
        rules[name] = {"rule_name": name, "branch_name": name, **body}
        return Reply(201, rules[name])

    def op_repoEditBranchProtection(self, op: Operation, user: User) -> Reply:
        rules = self.protections.get(f"{op.params['owner']}/{op.params['repo']}", {})
        if op.params["name"] not in rules:
            return Reply(404, {"message": "branch protection not found"})
        if (bad := self._unknown_teams(op.params["owner"], op.body or {})) is not None:
            return bad
        rules[op.params["name"]].update(op.body or {})
        return Reply(200, rules[op.params["name"]])

    def _unknown_teams(self, org: str, body: dict[str, Any]) -> Reply | None:
        names = {t["name"] for t in self.teams.values() if t["org"] == org}
        for key in ("push_whitelist_teams", "merge_whitelist_teams", "approvals_whitelist_teams"):
            missing = set(body.get(key) or []) - names
            if missing:
                return Reply(422, {"message": f"team does not exist: {sorted(missing)} ({key})"})
        return None

    def op_repoCreateHook(self, op: Operation, user: User) -> Reply:
        key = f"{op.params['owner']}/{op.params['repo']}"
        hook = {"id": self._id(), **(op.body or {})}
        self.hooks.setdefault(key, []).append(hook)
        return Reply(201, hook)

    def op_userGetOauth2Application(self, op: Operation, user: User) -> Reply:
        return Reply(200, [{k: v for k, v in a.items() if k not in {"client_secret", "owner"}}
                           for a in self.apps.values() if a["owner"] == user.name])

    def op_userCreateOAuth2Application(self, op: Operation, user: User) -> Reply:
        body = op.body or {}
        if not body.get("name") or not body.get("redirect_uris"):
            return Reply(400, {"message": "name and redirect_uris are required"})
        app = {"id": self._id(), "name": body["name"], "redirect_uris": body["redirect_uris"],
               "confidential_client": bool(body.get("confidential_client", False)),  # omitted = public
               "skip_secondary_authorization": bool(body.get("skip_secondary_authorization", False)),
               "client_id": str(uuid.uuid4()), "client_secret": "gto_" + secrets.token_hex(16), "owner": user.name}
        self.apps[app["id"]] = app
        return Reply(201, {k: v for k, v in app.items() if k != "owner"})

    def op_userUpdateOAuth2Application(self, op: Operation, user: User) -> Reply:
        app = self.apps.get(int(op.params["id"]))
        if app is None or app["owner"] != user.name:
            return Reply(404, {"message": "app not found"})
        body = op.body or {}
        app.update({"name": body.get("name", app["name"]), "redirect_uris": body.get("redirect_uris", []),
                    "confidential_client": bool(body.get("confidential_client", False)),
                    "client_secret": "gto_" + secrets.token_hex(16)})  # Gitea regenerates it on update
        return Reply(200, {k: v for k, v in app.items() if k != "owner"})


def _team_api(team: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in team.items() if k not in {"org", "repos"}}


def _category(template: str) -> str | None:
    head = template.strip("/").split("/")[0]
    return {"user": "user", "users": "user", "orgs": "organization", "teams": "organization",
            "repos": "repository", "repositories": "repository", "admin": "admin"}.get(head)


def _scope_ok(scopes: list[str] | None, category: str, *, write: bool) -> bool:
    if scopes is None or "all" in scopes:
        return True
    return f"write:{category}" in scopes or (not write and f"read:{category}" in scopes)
