"""What a command changes in one row, decided by pure functions over the row read and the values wanted.

A ``Change`` records the row it was planned against (``current``: its values become the write's condition) and
the row that results (``target``). ``changes`` lists every attribute that differs except ``updated_at``, which
every write sets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from abca_deploy.repos.errors import AlreadyOnboarded, NotOnboarded, Offboarded, RowTooLarge
from abca_deploy.repos.schema import (
    ACTIVE,
    MAX_ITEM_BYTES,
    REMOVED,
    SETTABLE,
    RepoRow,
    Value,
    frozen,
    iso_now,
    item_from_row,
    item_size,
    removal_ttl,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

Action = Literal["create", "update", "reactivate", "offboard", "unchanged"]
Scalar = Value | None


@dataclass(frozen=True)
class FieldChange:
    """One attribute before and after; ``None`` means absent."""

    name: str
    old: Scalar
    new: Scalar


@dataclass(frozen=True)
class Change:
    """The plan for one repository."""

    repo: str
    action: Action
    current: RepoRow | None
    target: RepoRow | None
    changes: tuple[FieldChange, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether applying the plan writes anything."""
        return self.action != "unchanged"

    def change(self, name: str) -> FieldChange | None:
        """The change of one attribute, if it changes."""
        return next((c for c in self.changes if c.name == name), None)


def _system(row: RepoRow | None) -> dict[str, Scalar]:
    if row is None:
        return {"status": None, "onboarded_at": None, "ttl": None}
    return {"status": row.status, "onboarded_at": row.onboarded_at, "ttl": row.ttl}


def diff(current: RepoRow | None, target: RepoRow) -> tuple[FieldChange, ...]:
    """Every attribute that differs between two rows (status, onboarded_at, settable fields, ttl)."""
    old_system, new_system = _system(current), _system(target)
    old_fields = current.fields if current else MappingProxyType({})
    out = [FieldChange(n, old_system[n], new_system[n]) for n in ("status", "onboarded_at")
           if old_system[n] != new_system[n]]
    for attr in SETTABLE:
        old, new = old_fields.get(attr.name), target.fields.get(attr.name)
        mistyped = current is not None and attr.name in current.extra
        if old != new or (mistyped and new is not None):
            out.append(FieldChange(attr.name, old, new))
    if old_system["ttl"] != new_system["ttl"]:
        out.append(FieldChange("ttl", old_system["ttl"], new_system["ttl"]))
    return tuple(out)


def _planned(repo: str, action: Action, current: RepoRow | None, target: RepoRow, now: datetime) -> Change:
    changes = diff(current, target)
    if not changes:
        return Change(repo, "unchanged", current, current)
    return Change(repo, action, current, replace(target, updated_at=iso_now(now)), changes)


def _with_fields(row: RepoRow, fields: Mapping[str, Value]) -> RepoRow:
    extra = {k: v for k, v in row.extra.items() if k not in fields}
    return replace(row, fields=frozen(dict(fields)), extra=MappingProxyType(extra))


def _create(repo: str, fields: Mapping[str, Value], now: datetime) -> Change:
    stamp = iso_now(now)
    target = RepoRow(repo=repo, status=ACTIVE, onboarded_at=stamp, updated_at=stamp,
                     fields=frozen(dict(fields)))
    return Change(repo, "create", None, target, diff(None, target))


def _reactivate(current: RepoRow, fields: Mapping[str, Value], now: datetime) -> Change:
    base = replace(current, status=ACTIVE, ttl=None, onboarded_at=current.onboarded_at or iso_now(now))
    return _planned(current.repo, "reactivate", current, _with_fields(base, fields), now)


def check_size(changes: Iterable[Change]) -> None:
    """Refuse a planned row larger than DynamoDB stores (the write would fail mid-way through a sync)."""
    for change in changes:
        if change.changed and change.target is not None:
            size = item_size(item_from_row(change.target))
            if size > MAX_ITEM_BYTES:
                msg = (f"{change.repo}: the row would be {size} bytes, over DynamoDB's item limit of "
                       f"{MAX_ITEM_BYTES} bytes.")
                raise RowTooLarge(msg, hint="Shorten system_prompt_overrides or cedar_policies.",
                                  title="Row too large")


def plan_onboard(repo: str, current: RepoRow | None, wanted: Mapping[str, Value], now: datetime) -> Change:
    """Onboard: create; re-activate a removed row (onboarded_at kept, ttl dropped); or no-op if identical."""
    if current is None:
        return _create(repo, wanted, now)
    if not current.active:
        return _reactivate(current, {**current.fields, **wanted}, now)
    change = _planned(repo, "update", current, _with_fields(current, {**current.fields, **wanted}), now)
    if change.changed:
        msg = f"{repo} is already onboarded and differs in: {', '.join(c.name for c in change.changes)}."
        raise AlreadyOnboarded(msg, hint=f"Use `abca-deploy repo update {repo}` with the fields to change.",
                               title="Repository already onboarded")
    return change


def plan_update(repo: str, current: RepoRow | None, wanted: Mapping[str, Value], unset: Iterable[str],
                now: datetime) -> Change:
    """Update: set the given fields and remove ``unset`` ones; every other attribute is left as it is."""
    if current is None:
        msg = f"{repo} is not onboarded."
        raise NotOnboarded(msg, hint=f"Onboard it first: `abca-deploy repo onboard {repo}`.",
                           title="Repository not onboarded")
    if not current.active:
        msg = f"{repo} is offboarded (status {current.status!r})."
        raise Offboarded(msg, hint=f"Re-activate it with `abca-deploy repo onboard {repo}`.",
                         title="Repository offboarded")
    fields = {k: v for k, v in {**current.fields, **wanted}.items() if k not in set(unset)}
    return _planned(repo, "update", current, _with_fields(current, fields), now)


def plan_offboard(repo: str, current: RepoRow | None, now: datetime) -> Change:
    """Offboard: soft delete (status removed, ttl in 30 days); a removed row is left as it is."""
    if current is None:
        msg = f"{repo} is not onboarded, so there is nothing to offboard."
        raise NotOnboarded(msg, hint="Check the name (`abca-deploy repo list`).",
                           title="Repository not onboarded")
    if not current.active:
        return Change(repo, "unchanged", current, current)
    return _planned(repo, "offboard", current, replace(current, status=REMOVED, ttl=removal_ttl(now)), now)


def plan_declared(repo: str, current: RepoRow | None, wanted: Mapping[str, Value] | None,
                  now: datetime) -> Change:
    """Sync: make the row hold exactly ``wanted`` (settable fields); ``None`` means offboard (--prune)."""
    if wanted is None:
        return plan_offboard(repo, current, now)
    if current is None:
        return _create(repo, wanted, now)
    if not current.active:
        return _reactivate(current, wanted, now)
    return _planned(repo, "update", current, _with_fields(current, wanted), now)
