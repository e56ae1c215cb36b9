"""``abca-deploy pr-comment``: one job summary and one pull request comment, updated in place on every push.

The plan workflow's jobs each write a Markdown section; this command joins them, writes the job summary, and
edits the comment that carries its hidden marker (creating it only the first time), so a pull request shows
one current plan rather than one comment per push. A token that may not comment (a pull request from a fork
gets a read-only token) is a warning, not a failure: the plan still is in the job summary, and the required
check still reports.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from abca_deploy.errors import AbcaError, UserError
from abca_deploy.gates.deployments import PlatformSettings, client, repository
from abca_deploy.gates.record import run_url
from abca_deploy.settings import Command, Lines

if TYPE_CHECKING:
    from collections.abc import Sequence

    from abca_deploy.github import Comment
    from abca_deploy.report import Reporter

COMMENT_LIMIT = 65_536  # GitHub rejects longer comment bodies
_MARKER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class CommentSettings(PlatformSettings):
    """Flags of ``abca-deploy pr-comment``."""

    body_files: Lines = Field(description="Markdown files to join, in order (missing files are skipped).",
                              json_schema_extra={"metavar": "FILE"})
    title: str = Field("abca-deploy plan", description="The heading of the comment and the summary.")
    pr_number: int | None = Field(None, ge=1, description=(
        "The pull request to comment on; without it (a merge queue run) only the job summary is written."),
        json_schema_extra={"form": "a pull request number", "metavar": "N"})
    marker: str = Field("abca-deploy-plan", description=(
        "The hidden marker that identifies the comment to update (one comment per marker)."),
        json_schema_extra={"form": "letters, digits, '_', '.', '-'", "metavar": "NAME"})

    @field_validator("marker")
    @classmethod
    def _marker(cls, value: str) -> str:
        if not _MARKER.match(value):
            msg = "must be 1-64 letters, digits, '_', '.' or '-'"
            raise ValueError(msg)
        return value


def compose(title: str, sections: Sequence[str], marker: str, footer: str, limit: int = COMMENT_LIMIT) -> str:
    """The comment body: marker, title, sections, footer; cut to ``limit`` with any code fence closed."""
    head = f"<!-- {marker} -->\n## {title}\n\n"
    tail = f"\n\n{footer}" if footer else ""
    body = "\n\n".join(s.strip() for s in sections if s.strip()) or "_Nothing to plan._"
    room = limit - len(head) - len(tail)
    if len(body) > room:
        notice = "\n\n_…cut to fit a comment; every section is complete in the run's job summary._"
        body = body[:room - len(notice) - 8]
        if body.count("```") % 2:
            body += "\n```"
        body += notice
    return head + body + tail


def pick(comments: Sequence[Comment], marker: str) -> Comment | None:
    """The comment to update: the newest carrying the marker, preferring one a bot wrote."""
    tagged = [c for c in comments if f"<!-- {marker} -->" in c.body]
    return next((c for c in reversed(tagged) if c.bot), tagged[-1] if tagged else None)


def run(settings: CommentSettings, reporter: Reporter) -> int:
    """Join the sections, write the summary, then create or update the one comment."""
    sections = [Path(f).read_text(encoding="utf-8", errors="replace") for f in settings.body_files
                if Path(f).is_file()]
    url = run_url(os.environ)
    sha = os.environ.get("GITHUB_SHA", "")[:12]
    parts = [f"Run: {url}" if url else "", f"commit {sha}" if sha else ""]
    footer = " · ".join(p for p in parts if p)
    body = compose(settings.title, sections, settings.marker, f"<sub>{footer}</sub>" if footer else "")
    reporter.summary(body)
    outcome = "summary only"
    if settings.pr_number is not None:
        outcome = _comment(settings, settings.pr_number, body, reporter)
    reporter.set_output("comment", outcome)
    reporter.result({"comment": outcome, "characters": len(body)}, f"{settings.title}: {outcome}")
    return 0


def _comment(settings: CommentSettings, number: int, body: str, reporter: Reporter) -> str:
    full_name, github = repository(settings), client(settings, reporter)
    if full_name is None or github is None:
        msg = "--platform-repository / --platform-token-env: no repository or token to comment with."
        hint = "In a workflow set GITHUB_TOKEN: ${{ github.token }} (pull-requests: write)."
        raise UserError(msg, hint=hint,
                        title="No GitHub token")
    try:
        existing = pick(github.comments(full_name, number), settings.marker)
        if existing is not None and github.edit_comment(full_name, number, existing.id, body):
            reporter.info(f"Updated the plan comment on #{number} ({existing.id}).")
            return "updated"
        created = github.create_comment(full_name, number, body)
    except AbcaError as exc:
        reporter.warning(f"{exc.one_line()} The plan is in this job's summary; a pull request from a fork "
                         "gets a read-only token, so no comment there.", title="Plan comment not written")
        return "not written"
    reporter.info(f"Commented the plan on #{number} ({created}).")
    return "created"


COMMENT = Command(
    settings=CommentSettings,
    run=run,
    help="Join Markdown sections into one job summary and one pull request comment, updated in place "
         "(the plan workflow's report).",
)
