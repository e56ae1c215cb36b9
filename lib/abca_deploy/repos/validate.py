"""Validation with the rules of the Blueprint construct and the runtime (abca-upstream §1.2, §1.7).

Each check takes a raw value (CLI text, or a YAML scalar or list) and returns the canonical value the row
stores, or raises ``ValueError`` with a short reason. ``FORMS`` says, per field, what is allowed; errors
show both. Numbers given as text must be plain ASCII digits (Python's ``int`` would also take ``1_0``, ``+5``
or other scripts' digits). ``model_id`` is checked here for its form only: whether the stack grants it is
decided by ``models`` once the stack's outputs are read. Cedar follows ABCA's agent (``cedar``).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from abca_deploy.credentials import looks_like_credential
from abca_deploy.identifiers import RUNTIME_ARN, SECRET_ARN
from abca_deploy.repos import cedar, models

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.repos.schema import Value

REPO_PATTERN = re.compile(r"[a-zA-Z0-9._-]+/[a-zA-Z0-9._-]+")
OWNER_MAX, NAME_MAX = 39, 100  # GitHub: user and organization names, repository names
INTEGER_TEXT = re.compile(r"-?[0-9]+")
NUMBER_TEXT = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
DOMAIN_PATTERN = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
DOMAIN_MAX = 253  # a DNS name's longest text form (RFC 1035: 255 octets on the wire); Route 53 takes <= 255
REF_SHAPE = re.compile(r"registry://([a-z][a-z0-9_]*)/([a-z][a-z0-9-]*)/([a-z0-9][a-z0-9._-]*)@(.+)")
CONSTRAINT = re.compile(r"([\^~]?)(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?")
COMPUTE_TYPES = ("agentcore", "ecs", "lambda-microvm")
REF_KINDS = {"mcp_servers": "mcp_server", "cedar_policy_modules": "cedar_policy_module", "skills": "skill"}


def _ref_form(kind: str) -> str:
    return f"registry://{kind}/<namespace>/<name>@<X.Y.Z, ^X.Y.Z or ~X.Y.Z>"


FORMS: dict[str, str] = {
    "repo": (f"OWNER/REPO of letters, digits, '.', '_' or '-' (owner at most {OWNER_MAX}, "
             f"name at most {NAME_MAX} characters)"),
    "compute_type": " | ".join(COMPUTE_TYPES),
    "runtime_arn": "arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>",
    "model_id": models.FORM,
    "max_turns": "integer 1-500",
    "max_budget_usd": "number 0.01-100",
    "system_prompt_overrides": "non-empty text",
    "github_token_secret_arn": "arn:aws:secretsmanager:<region>:<account>:secret:<name>",
    "poll_interval_ms": "integer 5000-300000",
    "build_command": "non-empty text",
    "lint_command": "non-empty text",
    "egress_allowlist": (f"lowercase domains such as pypi.org or *.example.com, at most {DOMAIN_MAX} "
                         "characters"),
    "cedar_policies": cedar.FORM,
    "approval_gate_cap": "integer 1-500",
    **{field: _ref_form(kind) for field, kind in REF_KINDS.items()},
}


def shown(value: Any, quote: Callable[[str], str] = repr) -> str:
    """`` (got X)`` for an error message: a scalar ``value`` (text quoted by ``quote``) cut to 60 characters;
    nothing for anything else, or for a value shaped like a credential (never echoed)."""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return ""
    text = quote(value) if isinstance(value, str) else str(value)
    if looks_like_credential(text):
        return ""
    return f" (got {text[:57] + '...' if len(text) > 60 else text})"


def repo_name(value: Any) -> str:
    """``owner/repo`` as the table's partition key: the Blueprint's pattern, within GitHub's length limits."""
    if not isinstance(value, str) or not REPO_PATTERN.fullmatch(value):
        msg = "is not OWNER/REPO"
        raise ValueError(msg)
    owner, name = value.split("/")
    if len(owner) > OWNER_MAX:
        msg = f"has an owner of {len(owner)} characters, longer than GitHub allows ({OWNER_MAX})"
        raise ValueError(msg)
    if len(name) > NAME_MAX:
        msg = f"has a repository name of {len(name)} characters, longer than GitHub allows ({NAME_MAX})"
        raise ValueError(msg)
    return value


EMPTY = "must not be empty"
"""Why blank text is refused; each front door adds how to remove a field there (--unset, null, omit it)."""


def text(value: Any) -> str:
    """Non-empty text, stored as given."""
    if not isinstance(value, str):
        msg = "must be text"
        raise ValueError(msg)
    if not value.strip():
        raise ValueError(EMPTY)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        msg = "is not valid Unicode text"
        raise ValueError(msg) from None
    return value


def _integer(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        msg = "must be an integer"
        raise ValueError(msg)
    if isinstance(value, str) and not INTEGER_TEXT.fullmatch(value.strip()):
        msg = "must be an integer in plain digits"
        raise ValueError(msg)
    number = int(value.strip()) if isinstance(value, str) else value
    if not low <= number <= high:
        msg = "is out of range"
        raise ValueError(msg)
    return number


def integer_range(low: int, high: int) -> Callable[[Any], int]:
    """A check for an integer within [low, high]."""
    return lambda value: _integer(value, low, high)


def budget(value: Any) -> Decimal:
    """max_budget_usd: a finite number within [0.01, 100]; fractions allowed."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        msg = "must be a number"
        raise ValueError(msg)
    if isinstance(value, float) and not math.isfinite(value):
        msg = "must be a finite number"
        raise ValueError(msg)
    if isinstance(value, str) and not NUMBER_TEXT.fullmatch(value.strip()):
        msg = "must be a number in plain digits, such as 12.5"
        raise ValueError(msg)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        msg = "must be a number"
        raise ValueError(msg) from None
    if not number.is_finite():
        msg = "must be a finite number"
        raise ValueError(msg)
    if not Decimal("0.01") <= number <= Decimal(100):
        msg = "is out of range"
        raise ValueError(msg)
    return number


def compute_type(value: Any) -> str:
    """One of the compute types the runtime accepts."""
    if value not in COMPUTE_TYPES:
        msg = "is not a compute type"
        raise ValueError(msg)
    return str(value)


def _pattern(pattern: re.Pattern[str], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            msg = f"is not {what}"
            raise ValueError(msg)
        return value

    return check


def string_list(value: Any) -> tuple[str, ...]:
    """A list of strings from a YAML list or CLI values."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        msg = "must be a list"
        raise ValueError(msg)
    if not all(isinstance(item, str) for item in value):
        msg = "must be a list of strings"
        raise ValueError(msg)
    return tuple(value)


def egress(value: Any) -> tuple[str, ...]:
    """Domains matching the Blueprint's DOMAIN_PATTERN, each a DNS name's length at most."""
    domains = string_list(value)
    for domain in domains:
        if not DOMAIN_PATTERN.fullmatch(domain):
            msg = f"has an invalid domain {domain!r}"
            raise ValueError(msg)
        if len(domain) > DOMAIN_MAX:
            msg = f"has a domain of {len(domain)} characters, longer than DNS allows ({DOMAIN_MAX})"
            raise ValueError(msg)
    return domains


def registry_refs(field: str) -> Callable[[Any], tuple[str, ...]]:
    """Strict registry refs whose kind matches ``field``."""
    kind = REF_KINDS[field]

    def check(value: Any) -> tuple[str, ...]:
        refs = string_list(value)
        for ref in refs:
            shape = REF_SHAPE.fullmatch(ref)
            if shape is None:
                msg = f"has an invalid registry ref {ref!r}"
                raise ValueError(msg)
            if shape.group(1) != kind:
                msg = f"has a {shape.group(1)!r} ref {ref!r} where a {kind!r} ref belongs"
                raise ValueError(msg)
            if not CONSTRAINT.fullmatch(shape.group(4)):
                msg = f"has an unsupported version constraint {shape.group(4)!r} in {ref!r}"
                raise ValueError(msg)
        return refs

    return check


CHECKS: dict[str, Callable[[Any], Value]] = {
    "compute_type": compute_type,
    "runtime_arn": _pattern(RUNTIME_ARN, "an AgentCore runtime ARN"),
    "model_id": models.shape,
    "max_turns": integer_range(1, 500),
    "max_budget_usd": budget,
    "system_prompt_overrides": text,
    "github_token_secret_arn": _pattern(SECRET_ARN, "a Secrets Manager secret ARN"),
    "poll_interval_ms": integer_range(5000, 300000),
    "build_command": text,
    "lint_command": text,
    "egress_allowlist": egress,
    "cedar_policies": cedar.check,
    "approval_gate_cap": integer_range(1, 500),
    **{field: registry_refs(field) for field in REF_KINDS},
}


def check_field(name: str, value: Any) -> Value:
    """The canonical value of settable field ``name``, or ``ValueError`` with the reason."""
    return CHECKS[name](value)
