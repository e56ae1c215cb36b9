"""How rows and plans look: text, JSON and markdown. ``github_token_secret_arn`` is always redacted."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from abca_deploy.report import markdown_table, text_table
from abca_deploy.repos.schema import ATTRIBUTES, PENDING_SECRET, redact_secret_arn

if TYPE_CHECKING:
    from collections.abc import Sequence

    from abca_deploy.repos.plan import Change, Scalar
    from abca_deploy.repos.schema import RepoRow

SECRET_FIELD = "github_token_secret_arn"
DONE = {"create": "created", "update": "updated", "reactivate": "re-activated", "offboard": "offboarded",
        "unchanged": "unchanged"}
PLANNED = {"create": "would create", "update": "would update", "reactivate": "would re-activate",
           "offboard": "would offboard", "unchanged": "unchanged"}


def json_value(name: str, value: Any) -> Any:
    """A value for JSON output."""
    if value is None:
        return None
    if name == SECRET_FIELD and isinstance(value, str):
        return value if value == PENDING_SECRET else redact_secret_arn(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (tuple, list, set, frozenset)):
        return [json_value(name, item) for item in value]
    return value


def text_value(name: str, value: Scalar) -> str:
    """A value for one line of text."""
    if value is None:
        return "(unset)"
    if name == "cedar_policies" and isinstance(value, tuple):
        size = sum(len(policy.encode()) for policy in value)
        return f"{len(value)} polic{'y' if len(value) == 1 else 'ies'} ({size} bytes)"
    if isinstance(value, tuple):
        return ", ".join(value) if value else "(empty)"
    shown = json_value(name, value)
    return str(shown).replace("\n", " ")


def _extra(attribute: dict[str, Any]) -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return json_value("", TypeDeserializer().deserialize(attribute))


def row_document(row: RepoRow) -> dict[str, Any]:
    """A row as JSON: the schema's attributes in order, then any others."""
    values: dict[str, Any] = {"repo": row.repo, "status": row.status, "onboarded_at": row.onboarded_at,
                              "updated_at": row.updated_at, "ttl": row.ttl, **row.fields}
    doc = {name: json_value(name, values[name]) for name in ATTRIBUTES if values.get(name) is not None}
    doc.update({name: _extra(attribute) for name, attribute in sorted(row.extra.items())})
    return doc


def row_text(row: RepoRow) -> str:
    """A row as ``attribute: value`` lines."""
    return "\n".join(f"{name}: {text_value(name, row.fields[name]) if name in row.fields else value}"
                     for name, value in row_document(row).items())


def rows_text(rows: Sequence[RepoRow]) -> str:
    """Rows as an aligned table."""
    if not rows:
        return "No repositories."
    table = [[r.repo, r.status, str(r.fields.get("compute_type", "-")), str(r.fields.get("model_id", "-")),
              r.updated_at or "-"] for r in rows]
    return text_table(["REPO", "STATUS", "COMPUTE", "MODEL", "UPDATED"], table)


def change_document(change: Change) -> dict[str, Any]:
    """A planned or applied change as JSON."""
    return {"repo": change.repo, "action": change.action, "changes": [
        {"field": c.name, "old": json_value(c.name, c.old), "new": json_value(c.name, c.new)}
        for c in change.changes]}


def change_text(change: Change, *, dry_run: bool) -> str:
    """``owner/repo: created`` and one indented line per changed attribute."""
    verb = (PLANNED if dry_run else DONE)[change.action]
    lines = [f"{change.repo}: {verb}"]
    for c in change.changes:
        old = "" if change.action == "create" else f"{text_value(c.name, c.old)} -> "
        lines.append(f"  {c.name}: {old}{text_value(c.name, c.new)}")
    return "\n".join(lines)


def changes_markdown(changes: Sequence[Change], *, dry_run: bool) -> str:
    """A markdown table of changes (unchanged rows left out), for the job summary."""
    verbs = PLANNED if dry_run else DONE
    rows = [[f"`{c.repo}`", verbs[c.action], "<br>".join(
        f"{x.name}: {text_value(x.name, x.old)} → {text_value(x.name, x.new)}" for x in c.changes)]
        for c in changes if c.changed]
    if not rows:
        return "No changes."
    return markdown_table(["Repository", "Action", "Changes"], rows)
