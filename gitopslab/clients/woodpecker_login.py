"""Sign in to Woodpecker through Gitea's OAuth2 flow without a browser, and mint a personal token.

Woodpecker v3 has no API to create a token from forge credentials (`/authorize/token` was removed),
so this walks the browser's path, as verified in Gitea v1.26.3 and Woodpecker v3.17.0 source
(../shared/contracts/FACTS.md, "Headless token"): ONE httpx client and cookie jar for both hosts,
redirects NOT followed (each hop is checked), no Origin / Sec-Fetch-Site headers.

  1. POST {gitea}/user/login                -> 303 + session cookie `i_like_gitea` (200 = refused)
  2. GET  {woodpecker}/authorize            -> 303 to {gitea}/login/oauth/authorize?...&state=<JWT>
  3. GET  that URL with the Gitea session   -> 200 consent page (first time) or 303 with a code
  4. POST {gitea}/login/oauth/grant         -> 303 to {woodpecker}/authorize?code&state
     (client_id, state, scope, nonce, redirect_uri echo the authorize query; same session)
  5. GET  that callback                     -> 303 to / and the `user_sess` cookie
  6. GET  {woodpecker}/web-config.js        -> WOODPECKER_CSRF = "..."
  7. POST {woodpecker}/api/user/token       -> the token as plain text (header X-CSRF-TOKEN)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from gitopslab.clients.http import RetryPolicy, ServiceAPI, make_client
from gitopslab.errors import HTTPServiceError

_CSRF = re.compile(r'WOODPECKER_CSRF = "([^"]*)"')
_LOGIN_ERRORS = {
    "registration_closed": (
        "Woodpecker refused to create the user (registration closed)",
        "list the Gitea admin user in WOODPECKER_ADMIN (or set WOODPECKER_OPEN=true) and restart Woodpecker",
    ),
    "oauth_error": (
        "Woodpecker could not exchange the OAuth code with Gitea",
        "WOODPECKER_GITEA_URL must be reachable from the Woodpecker container, and WOODPECKER_GITEA_CLIENT/"
        "SECRET must match the OAuth app in Gitea (re-run `gitopslab up`, which re-creates them)",
    ),
    "invalid_state": (
        "Woodpecker rejected the OAuth state (expired after 5 minutes, or signed by another server)",
        "run `gitopslab up` again; check that WOODPECKER_HOST is the URL gitopslab uses",
    ),
}


class _Flow(ServiceAPI):
    service = "Gitea/Woodpecker sign-in"


def headless_token(
    gitea_url: str,
    woodpecker_url: str,
    username: str,
    password: str,
    *,
    transport: httpx.BaseTransport | None = None,
    resolve: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    retry: RetryPolicy | None = None,
) -> str:
    """Run steps 1-7 and return a Woodpecker personal token for `username`."""
    http = make_client(timeout=timeout, transport=transport, resolve=resolve, retry=retry)
    with _Flow(http, secrets=[password]) as flow:
        _gitea_login(flow, gitea_url.rstrip("/"), username, password)
        callback = _authorize(flow, gitea_url.rstrip("/"), woodpecker_url.rstrip("/"))
        _callback(flow, callback)
        csrf = _csrf(flow, woodpecker_url.rstrip("/"))
        response = flow.request("POST", f"{woodpecker_url.rstrip('/')}/api/user/token",
                                headers={"X-CSRF-TOKEN": csrf})
        token = response.text.strip()
        if not token or token.startswith("<") or " " in token:
            raise HTTPServiceError("Woodpecker answered POST /api/user/token without a token",
                                   hint="check the Woodpecker server logs (`gitopslab logs woodpecker`)")
        return token


def _gitea_login(flow: _Flow, gitea: str, username: str, password: str) -> None:
    response = flow.request("POST", f"{gitea}/user/login", data={"user_name": username, "password": password},
                            expect=(303, 302), allow=(200,))
    if response.status_code == 200:  # Gitea re-renders the form on failure: 303 is the only success
        raise HTTPServiceError(
            f"Gitea refused the web sign-in of {username!r} (the login form was shown again)",
            hint="the admin password in the lab's state does not match Gitea; `gitopslab creds` shows it",
        )
    target = response.headers.get("location", "")
    if "change_password" in target:
        raise HTTPServiceError(
            f"Gitea requires {username!r} to change the password before anything else",
            hint="the admin must be created with --must-change-password=false; clear the flag in Gitea's "
                 "admin panel (Site Administration > User Accounts) and run `gitopslab up` again",
        )
    if not any(c.name == "i_like_gitea" for c in flow.http.cookies.jar):
        raise HTTPServiceError("Gitea signed in but set no session cookie (i_like_gitea)",
                               hint="keep the lab on plain http (COOKIE_SECURE follows an https ROOT_URL)")


def _authorize(flow: _Flow, gitea: str, woodpecker: str) -> str:
    """Steps 2-4; returns the Woodpecker callback URL that carries the code."""
    start = flow.request("GET", f"{woodpecker}/authorize", expect=(303, 302))
    authorize_url = _location(start, f"{woodpecker}/authorize")
    if urlsplit(authorize_url).netloc != urlsplit(gitea).netloc:  # the Gitea session cookie would not apply
        raise HTTPServiceError(
            f"Woodpecker sends the browser to {urlsplit(authorize_url).netloc}, not to Gitea at {urlsplit(gitea).netloc}",
            hint=f"set WOODPECKER_EXPERT_FORGE_OAUTH_HOST (or WOODPECKER_GITEA_URL) to {gitea} and restart Woodpecker",
        )
    page = flow.request("GET", authorize_url, expect=(200, 303, 302))
    if page.status_code != 200:  # a grant exists already: Gitea redirects straight to the callback
        target = _location(page, authorize_url)
        if urlsplit(target).path.startswith("/user/login"):
            raise HTTPServiceError("Gitea did not accept its own session on /login/oauth/authorize",
                                   hint="reach Gitea under one name for the whole sign-in (ROOT_URL's host)")
        return target
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query, keep_blank_values=True).items()}
    form = {
        "client_id": query.get("client_id", ""),
        "state": query.get("state", ""),
        "scope": query.get("scope", ""),
        "nonce": query.get("nonce", ""),
        "redirect_uri": query.get("redirect_uri", ""),
        "granted": "true",
    }
    grant = flow.request("POST", f"{gitea}/login/oauth/grant", data=form, expect=(303, 302))
    return _location(grant, authorize_url)


def _callback(flow: _Flow, callback: str) -> None:
    response = flow.request("GET", callback, expect=(303, 302))
    target = _location(response, callback)
    error = parse_qs(urlsplit(target).query).get("error", [""])[0]
    if error or "/login" in urlsplit(target).path:
        message, hint = _LOGIN_ERRORS.get(error, (f"Woodpecker sign-in failed ({error or target})",
                                                  "check the Woodpecker server logs (`gitopslab logs woodpecker`)"))
        raise HTTPServiceError(message, hint=hint)
    if not any(c.name == "user_sess" for c in flow.http.cookies.jar):
        raise HTTPServiceError("Woodpecker finished the sign-in but set no session cookie (user_sess)",
                               hint="keep WOODPECKER_HOST on http:// (secure cookies are not sent over http)")


def _csrf(flow: _Flow, woodpecker: str) -> str:
    script = flow.request("GET", f"{woodpecker}/web-config.js").text
    match = _CSRF.search(script)
    if not match or not match.group(1):
        raise HTTPServiceError("Woodpecker's /web-config.js carries no CSRF value: the session is not valid",
                               hint="run `gitopslab up` again; if it repeats, check the Woodpecker logs")
    return match.group(1)


def _location(response: httpx.Response, base: str) -> str:
    location = response.headers.get("location")
    if not location:
        raise HTTPServiceError(f"{response.request.method} {response.request.url.path} redirected without "
                               "a Location header", hint="check the service logs (`gitopslab logs`)")
    return urljoin(base, location)
