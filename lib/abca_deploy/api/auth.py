"""Who is calling, from what API Gateway's authorizer put in the event, and what they may do.

API Gateway verified the credential before the handler runs; clients cannot set ``requestContext``. The
handler reads the caller from either authorizer ABCA uses:

- the Cognito user-pools authorizer: ``authorizer.claims`` (``sub``, ``cognito:groups``: every claim is a
  string there, a list as ``a,b`` or ``[a b]``);
- ABCA's REQUEST authorizer (``api-key-authorizer.ts``): ``authorizer.userId``, plus ``keyId`` and ``scopes``
  (comma-joined) for a platform API key, or ``groups`` (comma-joined, one added line in that authorizer) for a
  Cognito ID token.

Reads: any signed-in user, or a key with ``repos:read``. Writes: members of the admin group, or a key with
``repos:manage``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from abca_deploy.api.responses import ApiError

READ_SCOPE = "repos:read"
MANAGE_SCOPE = "repos:manage"
_SEPARATORS = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: a user (with groups) or a platform API key (with scopes)."""

    user_id: str
    groups: frozenset[str] = frozenset()
    key_id: str | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def principal(self) -> str:
        """``key:<id>`` or ``user:<sub>``, for the access log."""
        return f"key:{self.key_id}" if self.key_id else f"user:{self.user_id}"


def _names(raw: Any) -> frozenset[str]:
    """Group or scope names from a list, or from a string such as ``a,b``, ``a b`` or ``[a b]``."""
    if isinstance(raw, (list, tuple)):
        return frozenset(str(item) for item in raw if str(item))
    if not isinstance(raw, str):
        return frozenset()
    return frozenset(part for part in _SEPARATORS.split(raw.strip().strip("[]")) if part)


def caller_of(event: dict[str, Any]) -> Caller | None:
    """The caller the authorizer vouched for; ``None`` when the event carries no identity."""
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, dict) else None
    if not isinstance(authorizer, dict):
        return None
    claims = authorizer.get("claims")
    if isinstance(claims, dict) and isinstance(claims.get("sub"), str) and claims["sub"]:
        return Caller(claims["sub"], groups=_names(claims.get("cognito:groups")))
    user = authorizer.get("userId")
    if not isinstance(user, str) or not user:
        return None
    key = authorizer.get("keyId")
    if isinstance(key, str) and key:
        return Caller(user, key_id=key, scopes=_names(authorizer.get("scopes")))
    return Caller(user, groups=_names(authorizer.get("groups")))


def authorize(caller: Caller | None, *, write: bool, admin_group: str) -> Caller:
    """The caller, if allowed to read (or ``write``); otherwise 401 or 403 naming what is missing."""
    if caller is None:
        raise ApiError(401, "UNAUTHORIZED", "Missing or invalid authentication.")
    if caller.key_id is not None:
        scope = MANAGE_SCOPE if write else READ_SCOPE
        if scope not in caller.scopes:
            held = ", ".join(sorted(caller.scopes)) or "none"
            msg = f"This API key lacks the {scope} scope (it has: {held})."
            raise ApiError(403, "FORBIDDEN", msg)
    elif write and admin_group not in caller.groups:
        msg = f"Changing repositories requires membership in the {admin_group} group."
        raise ApiError(403, "FORBIDDEN", msg)
    return caller
