"""Turn a planned ``Change`` into one conditional DynamoDB write (pure; the table adapter sends it).

A new row is a ``PutItem`` conditioned on the key not existing. Anything else is an ``UpdateItem`` that
SETs and REMOVEs only the attributes the plan changes, conditioned on the values it was planned against
(status, and each changed attribute's old value or its absence). Concurrent writers of different attributes
therefore never conflict, and a writer with a stale view fails the condition, re-reads and re-plans
instead of losing someone else's update. An ``exact`` write (the API's ``If-Match``) is conditioned on every
attribute of the row as read, so it fails if anything at all changed since.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abca_deploy.repos.schema import ATTRIBUTES, BY_NAME, RepoRow, item_from_row, to_attribute

if TYPE_CHECKING:
    from abca_deploy.repos.plan import Change, Scalar

NOT_CONDITIONED = frozenset({"updated_at", "ttl"})  # set by every writer that touches them; no lost update


@dataclass(frozen=True)
class WriteRequest:
    """Keyword arguments for ``put_item`` or ``update_item`` (without ``TableName``)."""

    repo: str
    operation: str
    kwargs: dict[str, Any]


def _attribute(name: str, value: Scalar) -> dict[str, Any]:
    if name in BY_NAME:
        assert value is not None
        return to_attribute(name, value)
    if name == "ttl":
        return {"N": str(value)}
    return {"S": str(value)}


def _old_attribute(row: RepoRow, name: str) -> dict[str, Any] | None:
    if name in row.extra:
        return dict(row.extra[name])
    value = row.fields.get(name) if name in BY_NAME else getattr(row, name, None)
    return None if value is None or value == "" else _attribute(name, value)


class _Expression:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        key = f"#a{len(self.names)}"
        self.names[key] = attribute
        return key

    def value(self, attribute: dict[str, Any]) -> str:
        key = f":v{len(self.values)}"
        self.values[key] = attribute
        return key


def build(change: Change, *, exact: bool = False) -> WriteRequest:
    """The conditional write that applies ``change``; ``exact``: only if the row is still exactly as read."""
    assert change.changed
    assert change.target is not None
    if change.current is None:
        return WriteRequest(change.repo, "put_item", {
            "Item": item_from_row(change.target),
            "ConditionExpression": "attribute_not_exists(#k)",
            "ExpressionAttributeNames": {"#k": "repo"},
        })
    return WriteRequest(change.repo, "update_item", _update(change, change.current, change.target, exact))


def _update(change: Change, current: RepoRow, target: RepoRow, exact: bool) -> dict[str, Any]:
    expr = _Expression()
    sets = [f"{expr.name('updated_at')} = {expr.value({'S': target.updated_at})}"]
    removes: list[str] = []
    conditions = [f"attribute_exists({expr.name('repo')})"]
    conditioned = {"repo"}
    for item in change.changes:
        key = expr.name(item.name)
        if item.new is None:
            removes.append(key)
        else:
            sets.append(f"{key} = {expr.value(_attribute(item.name, item.new))}")
        if item.name not in NOT_CONDITIONED or exact:
            conditions.append(_condition(expr, key, _old_attribute(current, item.name)))
            conditioned.add(item.name)
    if change.change("status") is None:
        conditions.append(_condition(expr, expr.name("status"), _old_attribute(current, "status")))
        conditioned.add("status")
    if exact:  # every other attribute, known or not, present or absent, as it was read
        for name in dict.fromkeys((*ATTRIBUTES, *sorted(current.extra))):
            if name not in conditioned:
                conditions.append(_condition(expr, expr.name(name), _old_attribute(current, name)))
    update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return {
        "Key": {"repo": {"S": change.repo}},
        "UpdateExpression": update,
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": expr.names,
        "ExpressionAttributeValues": expr.values,
        "ReturnValues": "ALL_NEW",
    }


def _condition(expr: _Expression, key: str, old: dict[str, Any] | None) -> str:
    if old is None:
        return f"attribute_not_exists({key})"
    return f"{key} = {expr.value(old)}"
