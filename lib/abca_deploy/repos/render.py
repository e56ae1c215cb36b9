"""How rows and plans look: text, JSON and markdown. ``github_token_secret_arn`` is always redacted."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from abca_deploy.report import markdown_table, text_table
from abca_deploy.repos.schema import ATTRIBUTES, PENDING_SECRET, SECRET_FIELD, redact_secret_arn

if TYPE_CHECKING:
    from collections.abc import Sequence

    from abca_deploy.repos.egress import EgressChange
    from abca_deploy.repos.operations import Written
    from abca_deploy.repos.plan import Change, Scalar
    from abca_deploy.repos.schema import RepoRow

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


def egress_document(change: EgressChange | None) -> dict[str, Any] | None:
    """The domain list's change as JSON (``None``: the stack has no runtime domain list)."""
    if change is None:
        return None
    return {"domain_list_id": change.list_id, "changed": change.changed, "dry_run": change.dry_run,
            "added": list(change.added), "removed": list(change.removed), "domains": sorted(change.after),
            "skipped": [{"repo": s.repo, "domain": s.domain} for s in change.skipped], "error": change.error}


def egress_text(change: EgressChange) -> str:
    """One line: what the domain list gained and lost (or would), or why it was not updated."""
    head = f"egress domain list {change.list_id}:"
    if change.error is not None:
        return f"{head} NOT brought up to date ({change.error})"
    count = f"({len(change.after)} domain{'' if len(change.after) == 1 else 's'})"
    if not change.changed:
        return f"{head} unchanged {count}"
    verbs = ("would add", "would remove") if change.dry_run else ("added", "removed")
    parts = [f"{verb} {', '.join(domains)}" for verb, domains in zip(verbs, (change.added, change.removed),
                                                                     strict=True) if domains]
    return f"{head} {'; '.join(parts)} {count}"


def egress_markdown(change: EgressChange) -> str:
    """The domain list's change for the job summary."""
    text = egress_text(change).removeprefix(f"egress domain list {change.list_id}:").strip()
    return f"DNS Firewall domain list `{change.list_id}` (egress): {text}"


def write_document(written: Written, row: RepoRow | None, notes: Sequence[str], *,
                   dry_run: bool) -> dict[str, Any]:
    """The result of one write, as ``repo onboard|update|offboard --output json`` prints it and the repo API
    answers it: the row, the change, the token's action, the notes and the domain list."""
    change = written.change
    return {
        "repo": row_document(row) if row is not None else {"repo": change.repo},
        "action": change.action, "changed": written.changed, "dry_run": dry_run,
        "changes": change_document(change)["changes"],
        "token": written.token.action if written.token else None,
        "notes": list(notes),
        "egress": egress_document(written.egress),
    }


TOKEN_TEXT = {"create": "stored in a new secret", "new-version": "stored as a new secret version",
              "restore": "secret restored from scheduled deletion", "unchanged": "unchanged"}


def token_line(action: str, *, dry_run: bool) -> str:
    """What happened (or would happen) to the repository's token secret, as the text result's last line."""
    pending = "would be " if dry_run and action != "unchanged" else ""
    return f"  github token: {pending}{TOKEN_TEXT.get(action, action)}"
