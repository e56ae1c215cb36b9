"""Who owns a row: a CDK ``Blueprint`` of the stack, or the table (abca-deploy, ABCA's CLI, people).

Precedence: a row a Blueprint declares belongs to CDK, everything else to the table. ``repo sync`` never
writes a CDK-owned row and ``--prune`` never offboards one. A repos file may still list a CDK-owned
repository (so one file can describe every repository), but only with exactly the fields the Blueprint
declares; a difference is refused, because a write would be reverted (or would revert CDK) at the next
deploy that changes the Blueprint, and nothing would say which one is meant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from abca_deploy.repos.blueprints import has_token
from abca_deploy.repos.render import text_value
from abca_deploy.repos.schema import SETTABLE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from abca_deploy.repos.blueprints import Declared
    from abca_deploy.repos.schema import RepoRow, Value


def declared_value(declared: Declared, name: str, row: RepoRow | None) -> Value | None:
    """What the Blueprint sets ``name`` to; a value resolved at deploy time is read from the row it wrote."""
    assert declared.fields is not None
    value = declared.fields.get(name)
    if value is not None and has_token(value):
        return row.fields.get(name) if row is not None else None
    return value


def differences(declared: Declared, wanted: Mapping[str, Value], row: RepoRow | None) -> list[str]:
    """``field (file X, CDK Y)`` for each field where the file and the Blueprint disagree."""
    if declared.fields is None:
        return ["its fields (the Blueprint's call could not be read from the template)"]
    out = []
    for attr in SETTABLE:
        cdk, mine = declared_value(declared, attr.name, row), wanted.get(attr.name)
        if cdk != mine:
            out.append(f"{attr.name} (file {text_value(attr.name, mine)}, CDK {text_value(attr.name, cdk)})")
    return out


def split(wanted: Mapping[str, Mapping[str, Value]], cdk: Mapping[str, Declared]) -> tuple[
        dict[str, Mapping[str, Value]], dict[str, Mapping[str, Value]]]:
    """The file's repositories the table owns, and those a Blueprint owns."""
    table = {repo: fields for repo, fields in wanted.items() if repo not in cdk}
    owned = {repo: fields for repo, fields in wanted.items() if repo in cdk}
    return table, owned
