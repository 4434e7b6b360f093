"""The S3 store's admin API (MinIO's, which the pinned silo fork keeps) through MinIO's own Python SDK:
users, canned policies and which policy a user has. The SDK encrypts the admin payloads the way the
server expects (madmin's argon2id + AES-GCM); this module gives it explicit timeouts and turns its
errors into one-line LabErrors that say what was asked and what the store answered.

    admin = S3Admin("127.0.0.1:30900", root_user, root_password)
    admin.ensure_user("gitopslab-ci", secret, "gitopslab-ci", policy_document)
"""

from __future__ import annotations

import json
from typing import Any

from gitopslab.errors import LabError


class S3AdminError(LabError):
    pass


class S3Admin:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, timeout: float = 10.0) -> None:
        import urllib3
        from minio import MinioAdmin
        from minio.credentials import StaticProvider

        # Bounded: the SDK's default is five minutes per read and five retries.
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=timeout, read=timeout),
                                   retries=urllib3.Retry(total=2, backoff_factor=0.5, status_forcelist=[502, 503, 504]))
        self.endpoint = endpoint
        self._admin = MinioAdmin(endpoint=endpoint, credentials=StaticProvider(access_key, secret_key), secure=False,
                                 region="us-east-1",
                                 http_client=http)

    def _call(self, what: str, fn: Any, *args: Any, missing: str = "", **kwargs: Any) -> str | None:
        """One admin call; None when the store answers that `missing` (an error code) does not exist."""
        from minio.error import MinioAdminException

        try:
            return str(fn(*args, **kwargs))
        except MinioAdminException as exc:
            if missing and (exc._code == "404" or missing in (exc._body or "")):
                return None
            raise S3AdminError(f"S3 store at {self.endpoint}: {what} failed: HTTP {exc._code}: {_short(exc._body)}",
                               hint="check the store with `gitopslab doctor --only Apps`; the root login is in "
                                    "`gitopslab creds`") from exc
        except Exception as exc:  # urllib3's connection errors and the SDK's own ValueErrors
            raise S3AdminError(f"S3 store at {self.endpoint}: {what} failed: {type(exc).__name__}: {_short(str(exc))}",
                               hint="check that the store answers: `gitopslab doctor --only Apps`") from exc

    def user_policy(self, access_key: str) -> str | None:
        """The policy names of an enabled user, comma-separated as the store keeps them; None when the
        user does not exist or is disabled."""
        text = self._call(f"reading user {access_key}", self._admin.user_info, access_key,
                          missing="XMinioAdminNoSuchUser")
        info = json.loads(text) if text else {}
        if info.get("status") != "enabled":
            return None
        return str(info.get("policyName") or "")

    def policy(self, name: str) -> dict[str, Any] | None:
        text = self._call(f"reading policy {name}", self._admin.policy_info, name, missing="XMinioAdminNoSuchPolicy")
        data = json.loads(text) if text else None
        # Newer servers wrap the document ({"PolicyName": .., "Policy": {..}}), older ones return it bare.
        return dict(data.get("Policy", data)) if isinstance(data, dict) else None

    def ensure_user(self, access_key: str, secret_key: str, policy_name: str, document: dict[str, Any]) -> None:
        """The user with this secret, its canned policy with this document, and the one mapped to the
        other. Each call writes all three: the store keeps no secret to compare with."""
        self._call(f"writing policy {policy_name}", self._admin.policy_add, policy_name, policy=document)
        self._call(f"writing user {access_key}", self._admin.user_add, access_key, secret_key)
        self._call(f"giving {access_key} the policy {policy_name}", self._admin.policy_set, policy_name,
                   user=access_key)


def _short(text: str | None, limit: int = 300) -> str:
    text = " ".join((text or "no answer").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
