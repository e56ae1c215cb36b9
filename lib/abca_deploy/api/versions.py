"""Entity tags and page tokens: how a client names the version of a row it saw, and where a list continues.

The ETag is a digest of the whole stored item (every attribute, known or not), so any change by anyone (the
CLI, the Blueprint construct, another API client) changes it. ``If-Match`` makes a write conditional on it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from decimal import Decimal
from typing import Any

from abca_deploy.api.responses import ApiError
from abca_deploy.repos.schema import RepoRow, item_from_row

_SETS = ("SS", "NS", "BS")  # unordered in DynamoDB: sorted, so the same set always hashes the same
PAGE_TOKEN_FORM = "the pagination.next_token of the previous page"


def _canonical(attribute: Any) -> Any:
    if not isinstance(attribute, dict) or len(attribute) != 1:
        return attribute
    ((kind, value),) = attribute.items()
    if kind == "N":
        return {"N": format(Decimal(value).normalize(), "f")}
    if kind in _SETS:
        return {kind: sorted(str(item) for item in value)}
    if kind == "L":
        return {"L": [_canonical(item) for item in value]}
    if kind == "M":
        return {"M": {key: _canonical(item) for key, item in value.items()}}
    if kind == "B":
        return {"B": base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)}
    return attribute


def etag(row: RepoRow) -> str:
    """The row's strong entity tag, quoted as HTTP sends it."""
    item = {name: _canonical(attribute) for name, attribute in item_from_row(row).items()}
    text = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def matches(header: str, row: RepoRow) -> bool:
    """Whether ``If-Match: header`` holds for the current ``row`` (``*``, or one of the listed tags)."""
    tags = [tag.strip() for tag in header.split(",") if tag.strip()]
    return "*" in tags or etag(row) in tags


def page_token(repo: str | None) -> str | None:
    """The opaque token for the page after ``repo``."""
    return base64.urlsafe_b64encode(json.dumps({"repo": repo}).encode()).decode() if repo else None


def after_repo(token: str | None) -> str | None:
    """The repository a page token continues after; 400 for a token this API did not give out."""
    if token is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        repo = decoded["repo"] if isinstance(decoded, dict) else None
    except (ValueError, TypeError, KeyError, binascii.Error):
        repo = None
    if not isinstance(repo, str) or not repo:
        msg = f"next_token: is not a token this API gave out; allowed: {PAGE_TOKEN_FORM}."
        raise ApiError(400, "VALIDATION_ERROR", msg)
    return repo
