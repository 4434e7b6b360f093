"""A stateful fake of the Woodpecker 3.17.0 server: /api validated against woodpecker-swagger.json,
the root routes (/healthz, /version, /web-config.js) and the OAuth sign-in (/authorize) served as
server/router and server/api/login.go do. Lists are paged as the server pages them: by name, at most 50
a page whatever `perPage` asks. It exchanges the code with the Gitea fake server-side and
activates repositories through the Gitea fake's API, as the real server does through its forge.

Not checked against the spec: the `Authorization` header every /api operation lists as required;
the real server also accepts the `user_sess` cookie (with X-CSRF-TOKEN on changing calls), which is
exactly how the first token is minted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.gitea import FakeGitea
from tests.fakes.server import Call, FakeServer, Reply, redirect
from tests.fakes.swagger import ContractViolation, Operation, Spec

_FIVE_FIELDS = re.compile(r"^\S+ \S+ \S+ \S+ \S+$")
# server/router/middleware/session/pagination.go @ v3.17.0.
MAX_PAGE_SIZE = 50


def _page(items: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """One page as session.Pagination and the store serve it: ordered by name, `page` from 1 (bad -> 1),
    `perPage` missing, bad, below 1 or above 50 -> 50."""
    def number(name: str, default: int) -> int:
        try:
            return int(query.get(name, [""])[0])
        except ValueError:
            return default

    page = max(number("page", 1), 1)
    per_page = number("perPage", MAX_PAGE_SIZE)
    per_page = per_page if 1 <= per_page <= MAX_PAGE_SIZE else MAX_PAGE_SIZE
    ordered = sorted(items, key=lambda item: str(item.get("name", "")))
    return ordered[(page - 1) * per_page:page * per_page]


@dataclass
class WPUser:
    id: int
    login: str
    gitea_token: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(16))


class FakeWoodpecker(FakeServer):
    name = "woodpecker"

    def __init__(self, spec: Spec, gitea: FakeGitea, *, client_id: str = "", client_secret: str = "",
                 admins: tuple[str, ...] = (), hostname: str = "woodpecker.localhost") -> None:
        super().__init__(hostname)
        self.spec, self.gitea = spec, gitea
        self.client_id, self.client_secret = client_id, client_secret  # WOODPECKER_GITEA_CLIENT/SECRET
        self.admins = {a.lower() for a in admins}                       # WOODPECKER_ADMIN
        self._key = secrets.token_bytes(16)
        self.users: dict[str, WPUser] = {}
        self.sessions: dict[str, str] = {}      # user_sess -> login
        self.tokens: dict[str, str] = {}        # personal token -> login
        self.repos: dict[int, dict[str, Any]] = {}
        self.secrets: dict[int, dict[str, dict[str, Any]]] = {}
        self.crons: dict[int, dict[int, dict[str, Any]]] = {}
        self._ids = iter(range(1, 10_000))

    # --- routing -----------------------------------------------------------------------------------
    def handle(self, call: Call) -> Reply:
        if call.path.startswith("/api/"):
            return self._api(call)
        root = {("GET", "/healthz"): lambda c: Reply(204, b"", content_type="text/plain"),
                ("GET", "/version"): lambda c: Reply(200, {"source": "https://github.com/woodpecker-ci/woodpecker",
                                                           "version": "3.17.0"}),
                ("GET", "/web-config.js"): self._web_config,
                ("GET", "/authorize"): self._authorize}.get((call.method, call.path))
        if root is None:
            raise ContractViolation(f"{call.method} {call.path}: not a Woodpecker route (/healthz and /version "
                                    "are at the root; the API is under /api)")
        return root(call)

    # --- sign-in -----------------------------------------------------------------------------------
    def _state(self) -> str:
        body = base64.urlsafe_b64encode(json.dumps({"exp": time.time() + 300}).encode()).decode()
        return f"{body}.{hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()}"

    def _state_ok(self, state: str) -> bool:
        body, _, sig = state.partition(".")
        good = hmac.compare_digest(sig, hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest())
        return good and json.loads(base64.urlsafe_b64decode(body))["exp"] > time.time()

    def _authorize(self, call: Call) -> Reply:
        q = {k: v[0] for k, v in call.query.items()}
        if "code" not in q and "error" not in q:
            query = {"client_id": self.client_id, "redirect_uri": f"{self.url}/authorize",
                     "response_type": "code", "state": self._state()}
            return redirect(f"{self.gitea.url}/login/oauth/authorize?{urlencode(query)}")
        if not self._state_ok(q.get("state", "")):
            return redirect("/login?error=invalid_state")
        if "error" in q:
            return redirect("/login?error=oauth_error")
        # Server-side, as WOODPECKER_GITEA_URL: the lab name, on the Gitea fake's socket.
        host = {"Host": f"{self.gitea.hostname}:{self.gitea.port}"}
        with httpx.Client(base_url=self.gitea.direct_url, headers=host, timeout=10) as gitea:
            exchanged = gitea.post("/login/oauth/access_token", data={
                "grant_type": "authorization_code", "code": q["code"], "client_id": self.client_id,
                "client_secret": self.client_secret, "redirect_uri": f"{self.url}/authorize"})
            if exchanged.status_code != 200:
                return redirect("/login?error=oauth_error")
            access = exchanged.json()["access_token"]
            login = gitea.get("/api/v1/user", headers={"Authorization": f"bearer {access}"}).json()["login"]
        if login.lower() not in self.admins and login not in self.users:
            return redirect("/login?error=registration_closed")
        user = self.users.setdefault(login, WPUser(next(self._ids), login, access))
        user.gitea_token = access
        sid = secrets.token_urlsafe(24)
        self.sessions[sid] = login
        return redirect("/", f"user_sess={sid}; Path=/; HttpOnly; SameSite=Lax")

    def _session_user(self, call: Call) -> WPUser | None:
        sid = call.cookie("user_sess")
        return self.users.get(self.sessions.get(sid, "")) if sid else None

    def _web_config(self, call: Call) -> Reply:
        user = self._session_user(call)
        csrf = user.csrf if user else ""
        js = f'window.WOODPECKER_USER = {json.dumps(bool(user))};\nwindow.WOODPECKER_CSRF = "{csrf}";\n'
        return Reply(200, js, content_type="application/javascript")

    # --- API ---------------------------------------------------------------------------------------
    def _api(self, call: Call) -> Reply:
        if call.path in {"/api/healthz", "/api/version"}:  # listed under /api by the swagger, served at /
            raise ContractViolation(f"{call.method} {call.path}: path not defined by the server (the swagger "
                                    "lists it under /api, server/router/router.go serves it at the root)")
        op = self.spec.validate(call.method, call.path, call.query, call.body)
        user = self._api_user(call)
        if isinstance(user, Reply):
            return user
        key = f"{op.method} {op.template}"
        handler = {
            "GET /user": lambda: Reply(200, {"id": user.id, "login": user.login, "admin": True}),
            "POST /user/token": lambda: self._mint(user),
            "GET /repos/lookup/{repo_full_name}": lambda: self._lookup(op),
            "POST /repos": lambda: self._activate(op, call, user),
            "GET /repos/{repo_id}/secrets": lambda: self._list_secrets(op, call),
            "POST /repos/{repo_id}/secrets": lambda: self._create_secret(op),
            "PATCH /repos/{repo_id}/secrets/{secretName}": lambda: self._patch_secret(op),
            "GET /repos/{repo_id}/cron": lambda: self._list_crons(op, call),
            "POST /repos/{repo_id}/cron": lambda: self._create_cron(op, user),
            "PATCH /repos/{repo_id}/cron/{cron}": lambda: self._patch_cron(op),
        }.get(key)
        if handler is None:
            raise ContractViolation(f"{key}: defined upstream but not served by this fake; extend "
                                    "tests/fakes/woodpecker.py")
        return handler()

    def _api_user(self, call: Call) -> WPUser | Reply:
        kind, _, value = call.headers.get("authorization", "").partition(" ")
        if kind.lower() == "bearer":
            login = self.tokens.get(value)
            return self.users[login] if login else Reply(401, "Unauthorized", content_type="text/plain")
        user = self._session_user(call)
        if user is None:
            return Reply(401, "Unauthorized", content_type="text/plain")
        if call.changing and call.headers.get("x-csrf-token") != user.csrf:
            return Reply(403, "Invalid or missing csrf token", content_type="text/plain")
        return user

    def _mint(self, user: WPUser) -> Reply:
        token = "eyJhbGciOiJIUzI1NiJ9." + secrets.token_urlsafe(24)
        self.tokens[token] = user.login
        return Reply(200, token, content_type="text/plain")

    def _repo(self, op: Operation) -> dict[str, Any] | None:
        return self.repos.get(int(op.params["repo_id"]))

    def _lookup(self, op: Operation) -> Reply:
        repo = next((r for r in self.repos.values() if r["full_name"] == op.params["repo_full_name"]), None)
        return Reply(200, repo) if repo else Reply(404, "Not Found", content_type="text/plain")

    def _activate(self, op: Operation, call: Call, user: WPUser) -> Reply:
        remote_id = call.query["forge_remote_id"][0]
        if any(r["forge_remote_id"] == remote_id and r["active"] for r in self.repos.values()):
            return Reply(409, "Repository is already active.", content_type="text/plain")
        host = {"Host": f"{self.gitea.hostname}:{self.gitea.port}", "Authorization": f"bearer {user.gitea_token}"}
        with httpx.Client(base_url=self.gitea.direct_url, headers=host, timeout=10) as gitea:
            forge = gitea.get(f"/api/v1/repositories/{remote_id}")
            if forge.status_code != 200:
                return Reply(404, "Repo not found in forge", content_type="text/plain")
            data = forge.json()
            if not data.get("permissions", {}).get("admin"):
                return Reply(403, "User has to be a admin of this repository", content_type="text/plain")
            hook_url = f"{self.url}/api/hook?access_token={secrets.token_urlsafe(16)}"
            owner, name = data["full_name"].split("/")
            hook = gitea.post(f"/api/v1/repos/{owner}/{name}/hooks", json={
                "type": "gitea", "active": True, "events": ["push", "create", "pull_request", "release"],
                "config": {"url": hook_url, "content_type": "json"}})
            if hook.status_code != 201:
                return Reply(500, f"could not create the hook: {hook.text}", content_type="text/plain")
        repo = {"id": next(self._ids), "forge_remote_id": remote_id, "full_name": data["full_name"], "owner": owner,
                "name": name, "active": True, "default_branch": data.get("default_branch", "main")}
        self.repos[repo["id"]] = repo
        return Reply(200, repo)

    def _list_secrets(self, op: Operation, call: Call) -> Reply:
        found = self.secrets.get(int(op.params["repo_id"]), {})
        return Reply(200, [{k: v for k, v in s.items() if k != "value"} for s in _page(list(found.values()), call.query)]
                     or None)  # an empty list is JSON null, as the real server answers (a nil Go slice)

    def _create_secret(self, op: Operation) -> Reply:
        body, repo_id = op.body or {}, int(op.params["repo_id"])
        if not body.get("events"):
            return Reply(422, "Invalid Secret: no event specified", content_type="text/plain")
        if not body.get("name") or not body.get("value"):
            return Reply(422, "Invalid Secret: name and value are required", content_type="text/plain")
        store = self.secrets.setdefault(repo_id, {})
        if body["name"] in store:
            return Reply(409, "secret already exists", content_type="text/plain")
        store[body["name"]] = {"id": next(self._ids), "repo_id": repo_id, "images": [], **body}
        return Reply(200, {k: v for k, v in store[body["name"]].items() if k != "value"})

    def _patch_secret(self, op: Operation) -> Reply:
        secret = self.secrets.get(int(op.params["repo_id"]), {}).get(op.params["secretName"])
        if secret is None:
            return Reply(404, "Not Found", content_type="text/plain")
        if "events" in (op.body or {}) and not op.body["events"]:
            return Reply(422, "Invalid Secret: no event specified", content_type="text/plain")
        secret.update(op.body or {})
        return Reply(200, {k: v for k, v in secret.items() if k != "value"})

    def _list_crons(self, op: Operation, call: Call) -> Reply:
        return Reply(200, _page(list(self.crons.get(int(op.params["repo_id"]), {}).values()), call.query) or None)

    def _create_cron(self, op: Operation, user: WPUser) -> Reply:
        body, repo_id = op.body or {}, int(op.params["repo_id"])
        if repo_id not in self.repos:
            return Reply(404, "Not Found", content_type="text/plain")
        if not body.get("name") or not _FIVE_FIELDS.match(body.get("schedule", "")):
            return Reply(400, "Error inserting cron. invalid cron spec", content_type="text/plain")
        cron = {"id": next(self._ids), "repo_id": repo_id, "creator_id": user.id, "enabled": False, **body}
        self.crons.setdefault(repo_id, {})[cron["id"]] = cron
        return Reply(200, cron)

    def _patch_cron(self, op: Operation) -> Reply:
        cron = self.crons.get(int(op.params["repo_id"]), {}).get(int(op.params["cron"]))
        if cron is None:
            return Reply(404, "Not Found", content_type="text/plain")
        cron.update(op.body or {})
        return Reply(200, cron)
