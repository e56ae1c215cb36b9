"""Request bodies: JSON in, the repos core's validated values out; errors name the field and the form.

Field names are the table's attribute names (as in ``repos.yaml`` and in every response), checked by the same
``repos.validate.check_field`` the CLI's flags go through, plus the write-only ``github_token``. In a PATCH,
``null`` (or ``[]`` for a list) removes an optional attribute; in a POST it is the same as leaving it out.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from abca_deploy.api.responses import ApiError
from abca_deploy.repos import validate as v
from abca_deploy.repos.schema import BY_NAME, SECRET_FIELD, SYSTEM

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from abca_deploy.repos.schema import Value

TOKEN = "github_token"
NOT_OBJECT = "The request body must be a JSON object."
NOT_BASE64 = "The request body is not valid base64-encoded UTF-8."
TOKEN_FORM = "a GitHub token: 1-255 printable characters without spaces (write-only, never returned)"


@dataclass(frozen=True)
class Fields:
    """What a body asks for: attributes to set, attributes to remove, and a token to store (never shown)."""

    wanted: dict[str, Value]
    unset: frozenset[str] = frozenset()
    token: str | None = field(default=None, repr=False)


def json_object(event: Mapping[str, Any]) -> dict[str, Any]:
    """The body as a JSON object (an absent body is ``{}``); 400 otherwise."""
    raw = event.get("body")
    if raw is None or raw == "":
        return {}
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _invalid(NOT_BASE64) from None
    try:
        document = json.loads(raw)
    except (ValueError, TypeError, RecursionError):  # RecursionError: absurdly deep nesting
        raise _invalid(NOT_OBJECT) from None
    if not isinstance(document, dict):
        raise _invalid(NOT_OBJECT)
    return document


def _invalid(message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message)


def _got(value: Any) -> str:
    """`` (got "X")``: the value as JSON text, as the caller sent it (never one shaped like a credential)."""
    return v.shown(value, lambda text: json.dumps(text, ensure_ascii=False))


def repo_name(value: Any, where: str = "repo") -> str:
    """An OWNER/REPO name; 400 naming ``where`` and the form otherwise."""
    try:
        return v.repo_name(value)
    except ValueError as exc:
        msg = f"{where}: {exc}{_got(value)}; allowed: {v.FORMS['repo']}."
        raise _invalid(msg) from None


def parse_fields(document: Mapping[str, Any], *, partial: bool, ignore: Sequence[str] = ()) -> Fields:
    """Validate every field of ``document`` (except ``ignore``); 400 listing every bad field. (A model the
    stack does not grant is the allowed-models guardrail's 422, decided by the repos core's write.)"""
    wanted: dict[str, Value] = {}
    unset: set[str] = set()
    errors: list[str] = []
    for name, raw in document.items():
        if name in ignore or name == TOKEN:
            continue
        problem = _field(name, raw, partial, wanted, unset)
        if problem:
            errors.append(problem)
    token = _token(document.get(TOKEN), errors) if TOKEN in document else None
    if token is not None and SECRET_FIELD in wanted:
        errors.append(f"{TOKEN}: cannot be combined with github_token_secret_arn (choose one)")
    if errors:
        raise _invalid("; ".join(errors) + ".")
    return Fields(wanted, frozenset(unset), token)


def _field(name: str, raw: Any, partial: bool, wanted: dict[str, Value], unset: set[str]) -> str | None:
    """Validate one field into ``wanted`` or ``unset``; the problem as text, if any."""
    if name not in BY_NAME:
        why = "is written by the service itself" if name in SYSTEM else "is not a field"
        return f"{name!r} {why}; allowed: {', '.join((*BY_NAME, TOKEN))}"
    if raw is None or raw == []:
        if partial:
            unset.add(name)
        return None
    if BY_NAME[name].kind == "S" and isinstance(raw, str) and not raw.strip():
        return f"{name}: must not be empty (send null to remove it); allowed: {v.FORMS[name]}"
    try:
        wanted[name] = v.check_field(name, raw)
    except ValueError as exc:
        return f"{name}: {exc}{_got(raw)}; allowed: {v.FORMS[name]}"
    return None


def _token(raw: Any, errors: list[str]) -> str | None:
    """A token's text, never echoed in an error."""
    if isinstance(raw, str) and 0 < len(raw) <= 255 and raw.isprintable() and raw.split() == [raw]:
        return raw
    errors.append(f"{TOKEN}: is not a GitHub token; allowed: {TOKEN_FORM}")
    return None
