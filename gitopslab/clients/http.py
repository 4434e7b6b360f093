"""The one way gitopslab talks HTTP to a lab service.

    make_client(base_url, ...)  -> httpx.Client   explicit Timeout, injectable transport, bounded retries,
                                                 split-horizon name mapping, no redirects followed
    ServiceAPI(client, ...)                       base of the typed clients: every httpx error and every
                                                 unexpected status becomes HTTPServiceError (redacted)

Transport stack (outermost first):

    RetryTransport          502/503/504 and connection errors, tenacity, bounded by attempts AND seconds
    SplitHorizonTransport   `gitea.localhost` -> 127.0.0.1 at connection time; the URL the client (and so
                            its cookie jar) sees keeps the lab name, and the Host header stays the lab name
    inner                   httpx.HTTPTransport(), or the one a test injects (MockTransport, ...)

Why map names ourselves: `*.localhost` does not resolve through getaddrinfo on every host (seen on
Debian bookworm without systemd-resolved), while every published lab port binds 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from gitopslab.errors import HTTPServiceError, redact

log = logging.getLogger("gitopslab.http")

RETRY_STATUSES = frozenset({502, 503, 504})
# Errors raised before the request reached the server: always safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Errors after sending: only safe to repeat for methods that change nothing.
_MAYBE_SENT = (httpx.ReadError, httpx.RemoteProtocolError)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """How long a transient failure is retried: whichever bound is hit first ends the retries."""

    attempts: int = 5
    budget_s: float = 30.0
    wait_initial_s: float = 0.5
    wait_max_s: float = 5.0


def default_timeout(seconds: float = 10.0) -> httpx.Timeout:
    # Connecting to 127.0.0.1 is instant when the service is up; reads may wait on a cold Gitea.
    return httpx.Timeout(seconds, connect=min(5.0, seconds))


class SplitHorizonTransport(httpx.BaseTransport):
    """Send requests for the lab's names to a fixed address, keeping the name everywhere else."""

    def __init__(self, inner: httpx.BaseTransport, resolve: Mapping[str, str]) -> None:
        self._inner = inner
        self._resolve = {k.lower(): v for k, v in resolve.items()}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        address = self._resolve.get(request.url.host.lower())
        if address is None:
            return self._inner.handle_request(request)
        # A new Request object: the client keeps the original (and its URL) for cookies and redirects.
        # The Host header was set from the original URL when the request was built, so it is kept.
        mapped = httpx.Request(
            request.method,
            request.url.copy_with(host=address),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return self._inner.handle_request(mapped)

    def close(self) -> None:
        self._inner.close()


class _Transient(Exception):
    pass


class RetryTransport(httpx.BaseTransport):
    """Retry 502/503/504 and connection errors within a bounded budget; afterwards the last response
    is returned (the caller reports its status) or the last error raised."""

    def __init__(self, inner: httpx.BaseTransport, policy: RetryPolicy) -> None:
        self._inner = inner
        self._policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self._policy
        retryable: tuple[type[BaseException], ...] = _NOT_SENT
        if request.method in _SAFE_METHODS:
            retryable = _NOT_SENT + _MAYBE_SENT

        def before_sleep(state: RetryCallState) -> None:
            outcome = state.outcome
            assert outcome is not None
            if outcome.failed:
                what = type(outcome.exception()).__name__
            else:
                response = outcome.result()
                what = f"HTTP {response.status_code}"
                response.close()
            log.debug("retrying %s %s after %s (attempt %d)", request.method, _path(request.url), what,
                      state.attempt_number)

        retrying = Retrying(
            stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.budget_s),
            wait=wait_exponential(multiplier=policy.wait_initial_s, max=policy.wait_max_s),
            retry=retry_if_exception_type(retryable)
            | retry_if_result(lambda r: r.status_code in RETRY_STATUSES),
            before_sleep=before_sleep,
            retry_error_callback=_last_outcome,
            reraise=True,
        )
        return retrying(self._send, request)

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if response.status_code in RETRY_STATUSES:
            response.read()  # so the body is still there when this is the last attempt
        return response

    def close(self) -> None:
        self._inner.close()


def _last_outcome(state: RetryCallState) -> Any:
    assert state.outcome is not None
    return state.outcome.result()  # the last response, or re-raise the last error


def make_client(
    base_url: str = "",
    *,
    timeout: httpx.Timeout | float = 10.0,
    transport: httpx.BaseTransport | None = None,
    resolve: Mapping[str, str] | None = None,
    retry: RetryPolicy | None = None,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
) -> httpx.Client:
    """An httpx.Client for one lab service (or, with no base_url, for a flow across services)."""
    inner = transport if transport is not None else httpx.HTTPTransport()
    stack: httpx.BaseTransport = inner
    if resolve:
        stack = SplitHorizonTransport(stack, resolve)
    stack = RetryTransport(stack, retry or RetryPolicy())
    return httpx.Client(
        base_url=base_url,
        timeout=timeout if isinstance(timeout, httpx.Timeout) else default_timeout(timeout),
        transport=stack,
        headers=dict(headers or {}),
        auth=auth,
        follow_redirects=False,
        # httpx logs each answer itself ("HTTP Request: ... 200 OK", every client): this adds the request.
        event_hooks={"request": [_log_request]},
    )


# Keys whose values never reach a log line, in JSON or form bodies.
_SECRET_KEY = re.compile(r"(?i)pass|secret|token|key|auth|credential|cookie|sha1|otp")


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "***" if _SECRET_KEY.search(str(k)) else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _body(request: httpx.Request) -> str:
    try:
        raw = request.content
    except httpx.RequestNotRead:
        return "(streamed body)"
    if not raw:
        return ""
    kind = request.headers.get("content-type", "")
    if "json" in kind:
        try:
            return json.dumps(_masked(json.loads(raw)))
        except ValueError:
            pass
    elif "x-www-form-urlencoded" in kind:
        pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return urlencode([(k, "***" if _SECRET_KEY.search(k) else v) for k, v in pairs], safe="*")
    return f"({len(raw)} bytes, {kind or 'no content type'})"


def _log_request(request: httpx.Request) -> None:
    """Method, URL without its query string or password, the auth scheme only, a masked body.
    The log formatter also removes every stored credential (gitopslab.logsetup)."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    url = request.url.copy_with(query=None, username=None, password=None)
    scheme = request.headers.get("authorization", "").split(" ", 1)[0]
    auth = f" (authorization: {scheme}, value hidden)" if scheme else ""
    body = _body(request)
    log.debug("http: %s %s%s%s", request.method, url, auth, f" body: {body}" if body else "")



def loopback_map(hostnames: Iterable[str], address: str = "127.0.0.1") -> dict[str, str]:
    """Every lab name -> the loopback address its published port binds."""
    return {name: address for name in hostnames}


def _path(url: httpx.URL) -> str:
    # Never log a query string: Woodpecker hook URLs and deprecated Gitea auth carry tokens there.
    return url.path


_API = TypeVar("_API", bound="ServiceAPI")


class ServiceAPI:
    """Base of the typed clients: one service, one httpx.Client, errors translated at this boundary."""

    service = "service"
    auth_hint = "check the credentials gitopslab stored for it (`gitopslab creds`)"

    def __init__(self, client: httpx.Client, *, secrets: Sequence[str] = ()) -> None:
        self.http = client
        self._secrets = [s for s in secrets if s]

    def __enter__(self: _API) -> _API:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def request(
        self,
        method: str,
        path: str,
        *,
        expect: Sequence[int] = (200,),
        allow: Sequence[int] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send; return the response when its status is expected or allowed, raise otherwise."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise self._transport_error(method, path, exc) from exc
        log.debug("%s %s %s -> %d", self.service, method, _path(response.request.url), response.status_code)
        if response.status_code in expect or response.status_code in allow:
            return response
        raise self.status_error(response)

    def _transport_error(self, method: str, path: str, exc: httpx.HTTPError) -> HTTPServiceError:
        url = f"{self.http.base_url}{path}" if self.http.base_url else path
        if isinstance(exc, httpx.TimeoutException):
            hint = f"{self.service} is up but slow, or hung: check its container logs (`gitopslab logs`)"
        else:
            hint = f"is {self.service} running? `gitopslab status` shows it; `gitopslab up` starts it"
        return HTTPServiceError(self.redact(f"{self.service}: {method} {url} failed: {exc}"), hint=hint)

    def status_error(self, response: httpx.Response) -> HTTPServiceError:
        request = response.request
        where = f"{request.method} {_path(request.url)}"
        status = response.status_code
        detail = self.redact(_excerpt(response))
        if status == 401:
            message = f"{self.service} rejected the credentials (401 Unauthorized) for {where}"
            return HTTPServiceError(message, hint=self.auth_hint)
        if status == 403:
            message = f"{self.service} refused {where} (403 Forbidden): {detail}"
            hint = f"the {self.service} user or token lacks the permission or scope for this call"
            return HTTPServiceError(message, hint=hint)
        if status in RETRY_STATUSES:
            message = f"{self.service} kept answering {status} for {where} (retried, budget spent)"
            return HTTPServiceError(message, hint=f"{self.service} is starting or overloaded; "
                                    "wait a moment and run `gitopslab up` again")
        message = f"{self.service} answered {status} for {where}: {detail}"
        return HTTPServiceError(message, hint=f"see the {self.service} logs: `gitopslab logs`")


def _excerpt(response: httpx.Response, limit: int = 300) -> str:
    try:
        response.read()
        text = response.text
    except httpx.HTTPError:
        return "(no body)"
    text = " ".join(text.split())
    return (text[:limit] + "...") if len(text) > limit else (text or "(empty body)")
