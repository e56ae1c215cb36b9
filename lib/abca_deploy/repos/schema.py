"""The repo-table row, attribute by attribute, and its exact DynamoDB types (abca-upstream §1.2).

Strings are ``S``, numbers ``N``, lists ``L`` of ``S`` (never ``SS``); unset optional fields are omitted.
A row keeps attributes this tool does not know (``extra``, in DynamoDB's low-level form), so nothing
that others wrote is lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Literal

Value = str | int | Decimal | tuple[str, ...]
"""A settable field's value: text, an integer, a decimal (max_budget_usd), or a list of strings."""

ACTIVE = "active"
REMOVED = "removed"
REMOVED_TTL_DAYS = 30  # REMOVED_REPO_TTL_DAYS in the Blueprint construct and ABCA's CLI
PENDING_SECRET = "(new secret)"
"""Stands for a token secret's ARN in a plan until the secret is created (never written)."""
SECRET_FIELD = "github_token_secret_arn"
"""The attribute that names a repository's own token secret."""


@dataclass(frozen=True)
class Attr:
    """One settable attribute: its DynamoDB type and, for numbers, whether it must be an integer."""

    name: str
    kind: Literal["S", "N", "L"]
    integer: bool = False


SETTABLE: tuple[Attr, ...] = (
    Attr("compute_type", "S"),
    Attr("runtime_arn", "S"),
    Attr("model_id", "S"),
    Attr("max_turns", "N", integer=True),
    Attr("max_budget_usd", "N"),
    Attr("system_prompt_overrides", "S"),
    Attr("github_token_secret_arn", "S"),
    Attr("poll_interval_ms", "N", integer=True),
    Attr("build_command", "S"),
    Attr("lint_command", "S"),
    Attr("egress_allowlist", "L"),
    Attr("cedar_policies", "L"),
    Attr("approval_gate_cap", "N", integer=True),
    Attr("mcp_servers", "L"),
    Attr("cedar_policy_modules", "L"),
    Attr("skills", "L"),
)
BY_NAME: MappingProxyType[str, Attr] = MappingProxyType({a.name: a for a in SETTABLE})
SYSTEM = ("repo", "status", "onboarded_at", "updated_at", "ttl")
ATTRIBUTES = (*SYSTEM[:4], *(a.name for a in SETTABLE), "ttl")
"""Every attribute of the Blueprint schema, in the order the issue and the reference list them."""


@dataclass(frozen=True)
class RepoRow:
    """One row as read from the table. ``fields`` holds the settable attributes that are present."""

    repo: str
    status: str = ACTIVE
    onboarded_at: str | None = None
    updated_at: str | None = None
    ttl: int | None = None
    fields: MappingProxyType[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    extra: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def active(self) -> bool:
        """Whether the runtime treats the repository as onboarded."""
        return self.status == ACTIVE


def frozen(values: dict[str, Value]) -> MappingProxyType[str, Value]:
    """A read-only view of field values, ordered as the schema lists them."""
    order = {a.name: i for i, a in enumerate(SETTABLE)}
    return MappingProxyType(dict(sorted(values.items(), key=lambda kv: order.get(kv[0], len(order)))))


def iso_now(now: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, as JavaScript's ``toISOString`` (the Blueprint) writes it."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def removal_ttl(now: datetime) -> int:
    """Epoch seconds 30 days from ``now``: when DynamoDB may expire a removed row."""
    return int((now + timedelta(days=REMOVED_TTL_DAYS)).timestamp())


def number_text(value: int | Decimal) -> str:
    """A number as DynamoDB ``N`` text, without exponent or trailing zeros."""
    if isinstance(value, int):
        return str(value)
    return format(value.normalize(), "f")


def to_attribute(name: str, value: Value) -> dict[str, Any]:
    """A settable field's value in DynamoDB's low-level form, typed by the schema."""
    kind = BY_NAME[name].kind
    if kind == "L":
        assert isinstance(value, tuple)
        return {"L": [{"S": item} for item in value]}
    if kind == "N":
        assert isinstance(value, (int, Decimal))
        return {"N": number_text(value)}
    return {"S": str(value)}


def _number(text: str, integer: bool) -> int | Decimal | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if integer and number == number.to_integral_value():
        return int(number)
    return number


def from_attribute(name: str, attribute: dict[str, Any]) -> Value | None:
    """A settable field from its low-level form; ``None`` when the stored type does not fit the schema."""
    spec = BY_NAME[name]
    if spec.kind == "L":
        if "L" in attribute and all("S" in item for item in attribute["L"]):
            return tuple(item["S"] for item in attribute["L"])
        return None  # e.g. a string set (SS): kept aside, and rewritten as L when the field is set
    if spec.kind == "N":
        text = attribute.get("N")
        return _number(text, spec.integer) if isinstance(text, str) else None
    return attribute.get("S")


def row_from_item(item: dict[str, Any]) -> RepoRow:
    """A RepoRow from a low-level DynamoDB item. Attributes of unexpected type are kept in ``extra``."""
    fields: dict[str, Value] = {}
    extra: dict[str, Any] = {}
    for name, attribute in item.items():
        if name in SYSTEM:
            continue
        value = from_attribute(name, attribute) if name in BY_NAME else None
        if value is None:
            extra[name] = attribute
        else:
            fields[name] = value
    ttl = item.get("ttl", {}).get("N")
    return RepoRow(
        repo=item["repo"]["S"],
        status=item.get("status", {}).get("S", ""),
        onboarded_at=item.get("onboarded_at", {}).get("S"),
        updated_at=item.get("updated_at", {}).get("S"),
        ttl=int(Decimal(ttl)) if ttl is not None else None,
        fields=frozen(fields),
        extra=MappingProxyType(extra),
    )


def item_from_row(row: RepoRow) -> dict[str, Any]:
    """The full low-level item for a row (what a conditional PutItem writes)."""
    item: dict[str, Any] = {"repo": {"S": row.repo}, "status": {"S": row.status}}
    for name in ("onboarded_at", "updated_at"):
        value = getattr(row, name)
        if value is not None:
            item[name] = {"S": value}
    item.update({name: to_attribute(name, value) for name, value in row.fields.items()})
    item.update(row.extra)
    if row.ttl is not None:
        item["ttl"] = {"N": str(row.ttl)}
    return item


MAX_ITEM_BYTES = 400 * 1024
"""DynamoDB's item size limit: attribute names and values together."""


def _value_size(attribute: dict[str, Any]) -> int:
    (kind, value), = attribute.items()
    if kind == "S":
        return len(str(value).encode())
    if kind == "N":
        return (len(str(value).lstrip("-").replace(".", "")) + 1) // 2 + 1
    if kind in ("L", "M"):
        items = value if kind == "L" else value.values()
        names = sum(len(k.encode()) for k in value) if kind == "M" else 0
        return 3 + names + sum(1 + _value_size(item) for item in items)
    return len(json.dumps(value))


def item_size(item: dict[str, Any]) -> int:
    """The size DynamoDB counts against MAX_ITEM_BYTES for a low-level item (names plus values)."""
    return sum(len(name.encode()) + _value_size(attribute) for name, attribute in item.items())


def redact_secret_arn(arn: str) -> str:
    """A secret ARN with its name hidden and its random suffix kept, as ABCA's CLI prints it."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[5] != "secret":
        return "****"
    name = ":".join(parts[6:])
    dash = name.rfind("-")
    return ":".join(parts[:6]) + ":****" + (name[dash:] if dash > 0 else "")
