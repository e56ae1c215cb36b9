"""Repositories a CDK ``Blueprint`` declares, read from the stack's deployed template.

ABCA's ``Blueprint`` construct writes its row through an ``AwsCustomResource``. aws-cdk-lib renders that as a
``Custom::AWS`` resource whose ``Create`` / ``Update`` / ``Delete`` properties are the SDK calls serialized to
JSON by ``Stack.toJsonString``: a plain JSON string when nothing in the call is a token, otherwise an
``Fn::Join`` with delimiter ``""`` of JSON text fragments and intrinsics (the table name is a ``Ref`` to the
repo table; a runtime or secret ARN may be a ``Ref``/``Fn::GetAtt`` too). ``Create`` is the ``putItem`` with
the whole row (``parameters.Item``), or the update when a construct gives no create call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from abca_deploy.repos.schema import BY_NAME, from_attribute

if TYPE_CHECKING:
    from collections.abc import Mapping

    from abca_deploy.repos.schema import Value

TOKEN = re.compile(r"\$\{(?:Ref|GetAtt):[A-Za-z0-9:._-]*\}|\$\{Token\}")
"""How an intrinsic inside the serialized call is represented after joining (``${Ref:RepoTable}``)."""
_SAFE = re.compile(r"[^A-Za-z0-9:._-]")


@dataclass(frozen=True)
class Declared:
    """A repository a Blueprint in the stack declares, and the fields it sets (``None``: not readable)."""

    repo: str
    logical_id: str
    path: str | None
    fields: Mapping[str, Value] | None

    @property
    def where(self) -> str:
        """How to name the construct to the operator: its CDK path, else its logical id."""
        return self.path or self.logical_id


def _marker(intrinsic: Any) -> str:
    if isinstance(intrinsic, dict) and len(intrinsic) == 1:
        (name, arg), = intrinsic.items()
        if name == "Ref":
            return "${Ref:" + _SAFE.sub("", str(arg)) + "}"
        if name == "Fn::GetAtt":
            target = ".".join(arg) if isinstance(arg, list) else str(arg)
            return "${GetAtt:" + _SAFE.sub("", target) + "}"
    return "${Token}"


def _joined(value: Any) -> str | None:
    """The text of a property: a string, or an Fn::Join whose intrinsics become markers."""
    if isinstance(value, str):
        return value
    if not (isinstance(value, dict) and list(value) == ["Fn::Join"]):
        return None
    delimiter, parts = value["Fn::Join"]
    if not isinstance(delimiter, str) or not isinstance(parts, list):
        return None
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        nested = _joined(part) if isinstance(part, dict) and list(part) == ["Fn::Join"] else None
        text = nested if nested is not None else _marker(part)
        # An intrinsic CDK typed as a number sits outside quotes; any marker there must stay valid JSON.
        quoted = "".join(out).rstrip().endswith('"')
        out.append(text if quoted else json.dumps(text))
    return delimiter.join(out) if delimiter else "".join(out)


def _call(properties: Mapping[str, Any]) -> dict[str, Any] | None:
    for key in ("Create", "Update"):
        text = _joined(properties.get(key))
        if text is None:
            continue
        try:
            call = json.loads(text)
        except ValueError:
            return None
        return call if isinstance(call, dict) else None
    return None


def _is_dynamodb_write(call: Mapping[str, Any]) -> bool:
    service = str(call.get("service", "")).lower().replace("@aws-sdk/client-", "").replace("-", "")
    action = str(call.get("action", "")).removesuffix("Command").lower()
    return service == "dynamodb" and action in ("putitem", "updateitem")


def _fields(item: Mapping[str, Any]) -> dict[str, Value]:
    fields: dict[str, Value] = {}
    for name, attribute in item.items():
        if name in BY_NAME and isinstance(attribute, dict):
            value = from_attribute(name, attribute)
            if value is not None:
                fields[name] = value
    return fields


def _table_refs(template: Mapping[str, Any], table_name: str) -> set[str]:
    """How the template may name the repo table: its name, or the ``Ref`` its RepoTableName output uses."""
    refs = {table_name}
    output = (template.get("Outputs") or {}).get("RepoTableName") or {}
    value = output.get("Value") if isinstance(output, dict) else None
    if isinstance(value, dict) and list(value) == ["Ref"]:
        refs.add(_marker(value))
    return refs


def declared(template: Mapping[str, Any], table_name: str) -> tuple[list[Declared], list[str]]:
    """The repositories custom resources in ``template`` write to the repo table, and the ones not readable.

    The second list names resources that look like DynamoDB writes but whose call could not be read: a caller
    that must not touch a CDK-owned row treats those as a reason to stop.
    """
    tables = _table_refs(template, table_name)
    found: list[Declared] = []
    unreadable: list[str] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or not str(resource.get("Type", "")).startswith("Custom::"):
            continue
        properties = resource.get("Properties") or {}
        if "Create" not in properties and "Update" not in properties:
            continue
        metadata = resource.get("Metadata") or {}
        path = metadata.get("aws:cdk:path") if isinstance(metadata, dict) else None
        call = _call(properties)
        if call is None:
            unreadable.append(str(path or logical_id))
            continue
        if not _is_dynamodb_write(call):
            continue
        parameters = call.get("parameters") or {}
        if parameters.get("TableName") not in tables:
            continue
        entry = _entry(logical_id, path, parameters)
        if entry is None:
            unreadable.append(str(path or logical_id))
        else:
            found.append(entry)
    return found, unreadable


def _entry(logical_id: str, path: Any, parameters: Mapping[str, Any]) -> Declared | None:
    item = parameters.get("Item")
    key = item if isinstance(item, dict) else parameters.get("Key")
    repo = (key or {}).get("repo", {}).get("S") if isinstance(key, dict) else None
    if not isinstance(repo, str) or TOKEN.search(repo):
        return None
    fields = MappingProxyType(_fields(item)) if isinstance(item, dict) else None
    shown = str(path).removesuffix("/Resource/Default").removesuffix("/Resource") if path else None
    return Declared(repo, logical_id, shown, fields)


def has_token(value: Value) -> bool:
    """Whether a declared value holds something only known at deploy time (a Ref or GetAtt)."""
    items = value if isinstance(value, tuple) else (value,)
    return any(isinstance(item, str) and TOKEN.search(item) for item in items)
