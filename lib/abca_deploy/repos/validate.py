"""Validation with the rules of the Blueprint construct and the runtime (abca-upstream §1.2, §1.7).

Each check takes a raw value (CLI text, or a YAML scalar or list) and returns the canonical value the row
stores, or raises ``ValueError`` with a short reason. ``FORMS`` says, per field, what is allowed; errors
show both.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from abca_deploy.identifiers import RUNTIME_ARN, SECRET_ARN

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from abca_deploy.repos.schema import Value

REPO_PATTERN = re.compile(r"[a-zA-Z0-9._-]+/[a-zA-Z0-9._-]+")
DOMAIN_PATTERN = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
REF_SHAPE = re.compile(r"registry://([a-z][a-z0-9_]*)/([a-z][a-z0-9-]*)/([a-z0-9][a-z0-9._-]*)@(.+)")
CONSTRAINT = re.compile(r"([\^~]?)(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?")
MODEL_PREFIXES = ("us.", "eu.", "apac.")
DEFAULT_MODELS = (
    "anthropic.claude-sonnet-4-6",
    "anthropic.claude-opus-4-20250514-v1:0",
    "anthropic.claude-opus-4-8",
    "anthropic.claude-opus-5",
    "anthropic.claude-haiku-4-5-20251001-v1:0",
)
"""The bare model ids ABCA grants by default (``DEFAULT_BEDROCK_MODEL_IDS``)."""
COMPUTE_TYPES = ("agentcore", "ecs", "lambda-microvm")
CEDAR_MAX_BYTES = 64 * 1024
REF_KINDS = {"mcp_servers": "mcp_server", "cedar_policy_modules": "cedar_policy_module", "skills": "skill"}


def _ref_form(kind: str) -> str:
    return f"registry://{kind}/<namespace>/<name>@<X.Y.Z, ^X.Y.Z or ~X.Y.Z>"


FORMS: dict[str, str] = {
    "repo": "OWNER/REPO of letters, digits, '.', '_' or '-'",
    "compute_type": " | ".join(COMPUTE_TYPES),
    "runtime_arn": "arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>",
    "model_id": "us.|eu.|apac.<a bare id from --allowed-models>",
    "max_turns": "integer 1-500",
    "max_budget_usd": "number 0.01-100",
    "system_prompt_overrides": "non-empty text",
    "github_token_secret_arn": "arn:aws:secretsmanager:<region>:<account>:secret:<name>",
    "poll_interval_ms": "integer 5000-300000",
    "build_command": "non-empty text",
    "lint_command": "non-empty text",
    "egress_allowlist": "lowercase domains such as pypi.org or *.example.com",
    "cedar_policies": f"Cedar policies, {CEDAR_MAX_BYTES // 1024} KB in total at most",
    "approval_gate_cap": "integer 1-500",
    **{field: _ref_form(kind) for field, kind in REF_KINDS.items()},
}


def repo_name(value: Any) -> str:
    """``owner/repo`` as the table's partition key."""
    if not isinstance(value, str) or not REPO_PATTERN.fullmatch(value):
        msg = "is not OWNER/REPO"
        raise ValueError(msg)
    return value


def text(value: Any) -> str:
    """Non-empty text, stored as given."""
    if not isinstance(value, str):
        msg = "must be text"
        raise ValueError(msg)
    if not value.strip():
        msg = "must not be empty (to remove it, use --unset)"
        raise ValueError(msg)
    return value


def _integer(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        msg = "must be an integer"
        raise ValueError(msg)
    try:
        number = int(value.strip()) if isinstance(value, str) else value
    except ValueError:
        msg = "must be an integer"
        raise ValueError(msg) from None
    if not low <= number <= high:
        msg = "is out of range"
        raise ValueError(msg)
    return number


def integer_range(low: int, high: int) -> Callable[[Any], int]:
    """A check for an integer within [low, high]."""
    return lambda value: _integer(value, low, high)


def budget(value: Any) -> Decimal:
    """max_budget_usd: a finite number within [0.01, 100]; fractions allowed."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        msg = "must be a number"
        raise ValueError(msg)
    if isinstance(value, float) and not math.isfinite(value):
        msg = "must be a finite number"
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
    """Domains matching the Blueprint's DOMAIN_PATTERN."""
    domains = string_list(value)
    for domain in domains:
        if not DOMAIN_PATTERN.fullmatch(domain):
            msg = f"has an invalid domain {domain!r}"
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


def cedar(value: Any, names: Sequence[str] | None = None) -> tuple[str, ...]:
    """Cedar policy texts, each parsed with cedarpy, 64 KB in total at most; ``names`` label errors."""
    import cedarpy

    policies = string_list(value)
    for index, policy in enumerate(policies):
        label = names[index] if names else f"policy {index + 1}"
        if not policy.strip():
            msg = f"{label} is empty"
            raise ValueError(msg)
        try:
            cedarpy.PolicySet.from_str(policy)
        except ValueError as exc:
            msg = f"{label} is not valid Cedar: {str(exc).splitlines()[0]}"
            raise ValueError(msg) from None
    total = sum(len(policy.encode()) for policy in policies)
    if total > CEDAR_MAX_BYTES:
        msg = f"total {total} bytes, over the {CEDAR_MAX_BYTES}-byte cap"
        raise ValueError(msg)
    return policies


def model_id(value: Any, allowed: Sequence[str] = DEFAULT_MODELS) -> str:
    """An inference-profile id (``us.``/``eu.``/``apac.``) whose bare id is in the granted list."""
    if not isinstance(value, str):
        msg = "must be text"
        raise ValueError(msg)
    prefix = next((p for p in MODEL_PREFIXES if value.startswith(p)), None)
    if prefix is None:
        msg = "is not an inference-profile id (prefix us., eu. or apac.)"
        raise ValueError(msg)
    if value[len(prefix):] not in allowed:
        msg = f"{value[len(prefix):]!r} is not granted (granted: {', '.join(allowed)})"
        raise ValueError(msg)
    return value


def bare_model(value: str) -> str:
    """A granted-list entry: a bare model id (no geography prefix)."""
    if not value or any(value.startswith(p) for p in MODEL_PREFIXES):
        msg = f"{value!r} must be a bare model id (no us., eu. or apac. prefix)"
        raise ValueError(msg)
    return value


CHECKS: dict[str, Callable[[Any], Value]] = {
    "compute_type": compute_type,
    "runtime_arn": _pattern(RUNTIME_ARN, "an AgentCore runtime ARN"),
    "model_id": model_id,
    "max_turns": integer_range(1, 500),
    "max_budget_usd": budget,
    "system_prompt_overrides": text,
    "github_token_secret_arn": _pattern(SECRET_ARN, "a Secrets Manager secret ARN"),
    "poll_interval_ms": integer_range(5000, 300000),
    "build_command": text,
    "lint_command": text,
    "egress_allowlist": egress,
    "cedar_policies": cedar,
    "approval_gate_cap": integer_range(1, 500),
    **{field: registry_refs(field) for field in REF_KINDS},
}


def check_field(name: str, value: Any, *, allowed_models: Sequence[str] = DEFAULT_MODELS) -> Value:
    """The canonical value of settable field ``name``, or ``ValueError`` with the reason."""
    if name == "model_id":
        return model_id(value, allowed_models)
    return CHECKS[name](value)
