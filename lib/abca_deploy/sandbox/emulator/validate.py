"""Requests checked like AWS checks them, from the botocore service model.

botocore validates required members, types, lengths and ranges client-side but not ``pattern`` traits; AWS
does. Here all of them are checked (patterns must match the whole value), so a raw HTTP client and boto3
get the same ValidationException AWS would send, naming the member.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from abca_deploy.sandbox.emulator.errors import validation

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "long": (int,), "boolean": (bool,), "float": (int, float),
    "double": (int, float), "list": (list,), "map": (dict,), "structure": (dict,), "blob": (bytes, str),
    "timestamp": (int, float, str),
}


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)


def problems(shape: Any, value: Any, path: str = "", *, sensitive: bool = False) -> list[tuple[str, str]]:
    """(member path, AWS-style message) pairs for ``value`` checked against the botocore ``shape``."""
    sensitive = sensitive or bool(shape.metadata.get("sensitive"))
    expected = _JSON_TYPES.get(shape.type_name, (object,))
    if not isinstance(value, expected) or (shape.type_name != "boolean" and isinstance(value, bool)):
        return [(path, _sentence(path, value, f"Member must be of type {shape.type_name}", sensitive))]
    node: Any = value  # its JSON type is checked above
    out = [(path, _sentence(path, node, problem, sensitive)) for problem in _constraints(shape, node)]
    if shape.type_name == "structure":
        out += _structure(shape, node, path, sensitive)
    elif shape.type_name == "list":
        for i, item in enumerate(node):
            out += problems(shape.member, item, f"{path}[{i}]", sensitive=sensitive)
    elif shape.type_name == "map":
        for key, item in node.items():
            out += problems(shape.key, key, f"{path}.key", sensitive=sensitive)
            out += problems(shape.value, item, f"{path}[{key}]", sensitive=sensitive)
    return out


def _structure(shape: Any, value: dict[str, Any], path: str, sensitive: bool) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    prefix = f"{path}." if path else ""
    for name in shape.required_members:
        if value.get(name) is None:
            out.append((prefix + name, _sentence(prefix + name, None, "Member must not be null", sensitive)))
    present = [name for name in value if name in shape.members and value[name] is not None]
    if shape.metadata.get("union") and len(present) != 1:
        problem = f"Member must set exactly one of: {', '.join(shape.members)}"
        out.append((path, _sentence(path, value, problem, sensitive)))
    for name in present:
        out += problems(shape.members[name], value[name], prefix + name, sensitive=sensitive)
    return out


def _constraints(shape: Any, value: Any) -> list[str]:
    meta = shape.metadata
    found: list[str] = []
    if shape.type_name in ("string", "list", "map", "blob"):
        if "min" in meta and len(value) < meta["min"]:
            found.append(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            found.append(f"Member must have length less than or equal to {meta['max']}")
    elif shape.type_name in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            found.append(f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            found.append(f"Member must have value less than or equal to {meta['max']}")
    if shape.type_name == "string":
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            found.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
        if "pattern" in meta and not _regex(meta["pattern"]).fullmatch(value):
            found.append(f"Member must satisfy regular expression pattern: {meta['pattern']}")
    return found


def _sentence(path: str, value: Any, problem: str, sensitive: bool) -> str:
    """AWS's wording: ``Value 'x' at 'a.b' failed to satisfy constraint: Member must ...``."""
    if value is None:
        shown = "Value null"
    elif sensitive:
        shown = "Value '***'"
    elif isinstance(value, (str, int, float)):
        shown = f"Value '{value}'"
    else:
        shown = "Value"
    return f"{shown} at '{path}' failed to satisfy constraint: {problem}"


def check(shape: Any, params: dict[str, Any]) -> None:
    """Raise a ValidationException (AWS's wording) when ``params`` break the model's constraints."""
    found = problems(shape, params)
    if not found:
        return
    noun = "error" if len(found) == 1 else "errors"
    detail = "; ".join(message for _, message in found)
    msg = f"{len(found)} validation {noun} detected: {detail}"
    raise validation(msg, found)
