"""The sandbox's stand-in for ABCA's REQUEST authorizer (``api-key-authorizer.ts``): a platform API key
(``X-API-Key``) or a Cognito ID token (``Authorization``, optionally ``Bearer``), else no access.

JWTs are verified with PyJWT against the pool's JWKS (which moto serves at the path AWS does): RS256
signature, ``exp``, ``iss`` (the pool), ``aud`` (the app client) and ``token_use == "id"``. A key is looked up
by id with a consistent read (a revoked key stops working at once), must be active and unexpired, its
secret's SHA-256 must match (compared in constant time) and it must hold the route group's scope. The context
is what that authorizer returns, plus ``groups`` for ID tokens (the one line the repository API adds to it).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from abca_deploy.api.responses import ApiError

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class Directory:
    """Where credentials are checked: the pool, its app client, the API-key table, and moto's URL."""

    moto: str
    region: str
    user_pool_id: str
    app_client_id: str
    api_key_table: str | None


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message)


class Authorizer:
    """Verifies one request's credential; ``required_scope`` is what an API key must hold to get in."""

    def __init__(self, ddb: Any, required_scope: str) -> None:
        self._ddb = ddb
        self.required_scope = required_scope
        self._jwks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def context(self, headers: Mapping[str, str], directory: Directory) -> dict[str, str]:
        """The authorizer context for the request, or 401/403 in ABCA's envelope."""
        key = headers.get("x-api-key")
        if key:
            return self._api_key(key, directory)
        authorization = headers.get("authorization")
        if authorization:
            return self._jwt(authorization, directory)
        msg = (
            "Missing authentication: send a Cognito ID token (Authorization) or an API key "
                            "(X-API-Key)."
        )
        raise _unauthorized(msg)

    def _client(self, directory: Directory) -> Any:
        import jwt

        url = f"{directory.moto}/{directory.user_pool_id}/.well-known/jwks.json"
        with self._lock:
            if url not in self._jwks:
                self._jwks[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=300)
            return self._jwks[url]

    def _jwt(self, header: str, directory: Directory) -> dict[str, str]:
        import jwt

        token = header.removeprefix("Bearer ").removeprefix("bearer ").strip()
        issuer = f"https://cognito-idp.{directory.region}.amazonaws.com/{directory.user_pool_id}"
        try:
            if jwt.decode(token, options={"verify_signature": False}).get("token_use") == "access":
                msg = "The token was refused: send the ID token, not the access token."
                raise _unauthorized(msg)
            signing_key = self._client(directory).get_signing_key_from_jwt(token)
            claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], issuer=issuer,
                                audience=directory.app_client_id,
                                options={"require": ["exp", "iat", "sub", "aud", "iss"]})
        except jwt.PyJWTError as exc:
            msg = f"The ID token was refused: {exc}."
            raise _unauthorized(msg) from None
        if claims.get("token_use") != "id":
            msg = "The token was refused: it is not an ID token."
            raise _unauthorized(msg)
        groups = claims.get("cognito:groups") or []
        return {"principalId": claims["sub"], "userId": claims["sub"],
                "groups": ",".join(str(g) for g in groups)}

    def _api_key(self, presented: str, directory: Directory) -> dict[str, str]:
        parts = presented.split("_")
        if len(parts) != 3 or parts[0] != "bgak" or not all(parts) or not directory.api_key_table:
            msg = "The API key is malformed or unknown."
            raise _unauthorized(msg)
        item = self._ddb.get_item(TableName=directory.api_key_table, Key={"key_id": {"S": parts[1]}},
                                  ConsistentRead=True).get("Item")
        if not item or item.get("status", {}).get("S") != "active":
            msg = "The API key is unknown or revoked."
            raise _unauthorized(msg)
        expires = item.get("expires_at", {}).get("S")
        if expires and datetime.fromisoformat(expires.replace("Z", "+00:00")) <= datetime.now(UTC):
            msg = "The API key has expired."
            raise _unauthorized(msg)
        digest = hashlib.sha256(parts[2].encode()).hexdigest()
        if not hmac.compare_digest(digest, item.get("key_hash", {}).get("S", "")):
            msg = "The API key is unknown or revoked."
            raise _unauthorized(msg)
        scopes = [entry.get("S", "") for entry in item.get("scopes", {}).get("L", [])]
        user_id = item.get("user_id", {}).get("S", "")
        if self.required_scope not in scopes:
            held = ", ".join(scopes) or "none"
            msg = f"This API key lacks the {self.required_scope} scope (it has: {held})."
            raise ApiError(403, "FORBIDDEN", msg)
        return {"principalId": user_id, "userId": user_id, "keyId": parts[1], "scopes": ",".join(scopes)}
