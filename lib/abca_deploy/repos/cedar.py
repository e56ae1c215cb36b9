"""``cedar_policies`` checked as ABCA's agent loads them, with the Cedar engine ABCA pins (cedarpy 4.8.4).

At task start the agent (``agent/src/policy.py`` at 2cee8800) refuses an entry that already contains
``@tier(`` or ``@rule_id(``, caps the entries at 64 KB in total, prefixes entry N with its own annotations
``@tier("soft")`` and ``@rule_id("legacy_extra_N")``, appends them to its soft-deny tier and checks every rule
of that tier: a ``@tier`` and ``@rule_id`` on each (so an entry holding a second policy fails the task), an
integer ``@approval_timeout_s`` of at least 30 s, a ``@severity`` of low, medium or high. Then, for every tool
call, it evaluates the tier against the agent's requests, and a policy that errors on one denies that call
(fail-closed). Each rule below is checked here so that an entry accepted here never fails a task there.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_BYTES = 64 * 1024
"""The agent's cap on the operator's Cedar text (POLICIES_MAX_BYTES)."""
TIMEOUT_FLOOR_S = 30
"""``approval_timeout_s.min`` in ABCA's ``contracts/constants.json``."""
SEVERITIES = ("low", "medium", "high")
RESERVED = ("@tier(", "@rule_id(")
FORM = (f"Cedar policies, one per entry, without @tier or @rule_id, {MAX_BYTES // 1024} KB in total at most")

# The requests the agent evaluates for a tool call: invoke_tool for every tool, write_file for Write/Edit,
# execute_bash for Bash; each with the base context, in read-only and read-write workflows.
_BASE = {"task_type": "new_task", "repo": "https://github.com/octo/app"}
_SHAPES: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("invoke_tool", "Agent::Tool", "Read", {}),
    ("write_file", "Agent::File", "file", {"file_path": "src/app.py"}),
    ("execute_bash", "Agent::BashCommand", "command", {"command": "make test"}),
)
_PRINCIPAL = {"type": "Agent::TaskAgent", "id": _BASE["task_type"]}


def _wrap(index: int, text: str) -> str:
    return f'@tier("soft")\n@rule_id("legacy_extra_{index}")\n{text}'


def _one_line(text: str, limit: int = 200) -> str:
    line = "; ".join(part.strip() for part in text.splitlines() if part.strip())
    return line if len(line) <= limit else line[:limit - 3] + "..."


def _parse(text: str) -> dict[str, Any]:
    import cedarpy

    parsed: dict[str, Any] = json.loads(cedarpy.policies_to_json_str(text))
    return parsed


def _check_entry(index: int, text: Any, label: str) -> None:
    if not isinstance(text, str):
        msg = f"{label} must be text"
        raise ValueError(msg)
    if not text.strip():
        msg = f"{label} is empty"
        raise ValueError(msg)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        msg = f"{label} is not valid Unicode text"
        raise ValueError(msg) from None
    if any(marker in text for marker in RESERVED):
        msg = f"{label} declares @tier or @rule_id; ABCA adds both to every entry itself, so remove them"
        raise ValueError(msg)
    try:
        parsed = _parse(_wrap(index, text))
    except ValueError as exc:
        msg = f"{label} is not valid Cedar: {_one_line(str(exc))}"
        raise ValueError(msg) from None
    if parsed.get("templates"):
        msg = (f"{label} is a template (?principal or ?resource); ABCA never links templates, so it would "
               "never apply")
        raise ValueError(msg)
    policies = list(parsed.get("staticPolicies", {}).values())
    if len(policies) != 1:
        msg = (f"{label} holds {len(policies)} policies; ABCA annotates each entry as one rule and fails the "
               "task on an unannotated one, so put one policy per entry")
        raise ValueError(msg)
    _check_annotations(label, policies[0].get("annotations") or {})


def _check_annotations(label: str, annotations: dict[str, Any]) -> None:
    timeout = annotations.get("approval_timeout_s")
    if timeout is not None:
        try:
            seconds = int(timeout)  # exactly how the agent reads it
        except ValueError:
            msg = f"{label}: @approval_timeout_s({timeout!r}) is not an integer"
            raise ValueError(msg) from None
        if seconds < TIMEOUT_FLOOR_S:
            msg = f"{label}: @approval_timeout_s({seconds}) is below ABCA's floor of {TIMEOUT_FLOOR_S} s"
            raise ValueError(msg)
    severity = annotations.get("severity")
    if severity and severity not in SEVERITIES:
        msg = f"{label}: @severity({severity!r}) is not one of {', '.join(SEVERITIES)}"
        raise ValueError(msg)


def _requests() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    requests, entities = [], [{"uid": _PRINCIPAL, "attrs": {}, "parents": []}]
    for action, kind, name, extra in _SHAPES:
        entities.append({"uid": {"type": kind, "id": name}, "attrs": {}, "parents": []})
        for read_only in (False, True):
            requests.append({
                "principal": f'{_PRINCIPAL["type"]}::"{_PRINCIPAL["id"]}"',
                "action": f'Agent::Action::"{action}"', "resource": f'{kind}::"{name}"',
                "context": {**_BASE, "read_only": read_only, **extra}})
    return requests, entities


def _check_evaluation(combined: str, labels: Sequence[str]) -> None:
    """Evaluate the entries against the agent's requests; a policy that errors would deny those tool calls."""
    import cedarpy

    requests, entities = _requests()
    results = cedarpy.is_authorized_batch(requests, combined, entities)
    for request, result in zip(requests, results, strict=True):
        for error in getattr(result.diagnostics, "errors", []) or []:
            text = str(error)
            index = next((i for i in range(len(labels)) if f"`policy{i}`" in text), None)
            where = labels[index] if index is not None else "the policies"
            action = request["action"].split('"')[1]
            reason = _one_line(text.split(": ", 1)[-1])
            msg = (f"{where} fails to evaluate on the agent's {action} requests ({reason}), so the agent "
                   "would deny those tool calls")
            raise ValueError(msg)


def check(value: Any, names: Sequence[str] | None = None) -> tuple[str, ...]:
    """The entries if ABCA's agent loads and evaluates them without error; ``ValueError`` says why not."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        msg = "must be a list"
        raise ValueError(msg)
    labels = [names[i] if names else f"policy {i + 1}" for i in range(len(value))]
    for index, text in enumerate(value):
        _check_entry(index, text, labels[index])
    policies = tuple(value)
    total = sum(len(text.encode()) for text in policies)
    if total > MAX_BYTES:
        msg = f"total {total} bytes, over the {MAX_BYTES}-byte cap"
        raise ValueError(msg)
    combined = "\n".join(_wrap(i, text) for i, text in enumerate(policies))
    try:
        _parse(combined)
    except ValueError as exc:  # each parsed alone; together they must too, as the agent joins them
        msg = f"the policies are not valid Cedar together: {_one_line(str(exc))}"
        raise ValueError(msg) from None
    if policies:
        _check_evaluation(combined, labels)
    return policies
