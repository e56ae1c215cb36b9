"""ABCA's response envelope: ``{"data": ...}`` (with ``pagination`` for lists) or ``{"error": {...}}``.

Every response carries ``Content-Type: application/json``, ``Access-Control-Allow-Origin: *`` and
``X-Request-Id``, as ABCA's ``cdk/src/handlers/shared/response.ts`` builds them; our extra headers (``ETag``,
``Location``) cannot override those.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

Response = dict[str, Any]
"""An API Gateway proxy result: statusCode, headers, body."""


class ApiError(Exception):
    """An answer other than success: the HTTP status, ABCA's machine-readable code, a message for people."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def _headers(request_id: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    return {**(extra or {}), "Content-Type": "application/json", "Access-Control-Allow-Origin": "*",
            "X-Request-Id": request_id}


def _dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def success(status: int, data: Any, request_id: str, headers: Mapping[str, str] | None = None) -> Response:
    """``{"data": data}``."""
    return {"statusCode": status, "headers": _headers(request_id, headers), "body": _dumps({"data": data})}


def paginated(data: list[Any], next_token: str | None, request_id: str) -> Response:
    """``{"data": [...], "pagination": {"next_token", "has_more"}}``."""
    body = {"data": data, "pagination": {"next_token": next_token, "has_more": next_token is not None}}
    return {"statusCode": 200, "headers": _headers(request_id, None), "body": _dumps(body)}


def error(err: ApiError, request_id: str) -> Response:
    """``{"error": {"code", "message", "request_id"}}``."""
    body = {"error": {"code": err.code, "message": err.message, "request_id": request_id}}
    return {"statusCode": err.status, "headers": _headers(request_id, err.headers), "body": _dumps(body)}
