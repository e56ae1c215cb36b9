"""``abca-deploy changes``: which lifecycles (runtime, infra, config, …) a git range touches.

Unlike GitHub's ``on.push.paths`` it sees the complete diff (no 300-file cap), and it runs as a job step, so a
skipped deploy job is a *success* for required checks rather than a check stuck in "Pending". When the range
cannot be diffed (no base, an all-zero base, or a base missing from a shallow or rewritten history) every
filter is reported as changed: deploying too much is safe, skipping a needed deploy is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from abca_deploy.errors import UserError
from abca_deploy.gates.paths import FILTER_FORM, build_filters, parse_filter
from abca_deploy.report import markdown_table, text_table
from abca_deploy.settings import Command, CommandSettings, Lines

if TYPE_CHECKING:
    from abca_deploy.gates.git import Git
    from abca_deploy.gates.paths import PathFilter
    from abca_deploy.report import Reporter

_REVISION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./@^~{}-]{0,255}$")
_SHOWN_FILES = 5


class ChangesSettings(CommandSettings):
    """Flags of ``abca-deploy changes``."""

    base: str | None = Field(None, description=(
        "The commit before the change (Actions: github.event.before, or the pull request's base SHA); "
        "empty or all zeros means every filter changed."), json_schema_extra={"form": "a commit SHA",
                                                                          "metavar": "SHA"})
    head: str = Field("HEAD", description="The commit after the change (Actions: github.sha).",
                      json_schema_extra={"form": "a commit SHA or ref", "metavar": "SHA"})
    filters: Lines = Field(default_factory=list, description=(
        "A named path filter, NAME=GLOB,GLOB (gitignore-style globs anchored at the repository root); "
        "replaces the default of that name or adds one. Defaults: runtime=agent/**,contracts/** "
        "infra=cdk/** config=repos.yaml."),
        json_schema_extra={"form": FILTER_FORM, "metavar": "NAME=GLOB,GLOB"})
    repo: str = Field(".", description="The git checkout to diff (default: the current directory).",
                      json_schema_extra={"metavar": "DIR"})

    @field_validator("base", "head")
    @classmethod
    def _revision(cls, value: str | None) -> str | None:
        if value is not None and not _REVISION.match(value):
            msg = "is not a commit SHA or ref (letters, digits and ./@^~{}-_ only; no leading '-')"
            raise ValueError(msg)
        return value

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                parse_filter(text)
            except ValueError as exc:
                msg = f"{exc} (got {text[:60]!r})"
                raise ValueError(msg) from None
        return value


@dataclass(frozen=True)
class Gate:
    """One filter's verdict: changed or not, and the files that made it so (None: not diffed)."""

    name: str
    patterns: tuple[str, ...]
    changed: bool
    files: tuple[str, ...] | None


def decide(filters: list[PathFilter], files: list[str] | None) -> list[Gate]:
    """Each filter's gate; ``files`` None means the range could not be diffed, so everything changed."""
    if files is None:
        return [Gate(f.name, f.patterns, True, None) for f in filters]
    gates = []
    for path_filter in filters:
        hits = tuple(path_filter.matches(files))
        gates.append(Gate(path_filter.name, path_filter.patterns, bool(hits), hits))
    return gates


def undiffable_reason(git: Git, base: str | None) -> str | None:
    """Why the range cannot be diffed precisely (so every filter counts as changed), or None."""
    if not base:
        return ("No base commit was given (--base/ABCA_BASE is empty, as on a manual or scheduled run): "
                "treating every filter as changed.")
    if set(base) == {"0"}:
        return ("The base commit is all zeros (a new branch, or the repository's first push): "
                "treating every filter as changed.")
    if git.commit(base) is not None:
        return None
    if git.is_shallow():
        return (f"The base commit {base} is not in this shallow clone's history: treating every filter as "
                "changed. Fetch it to gate precisely (actions/checkout with fetch-depth: 0, or "
                f"`git fetch --depth=1 origin {base}`).")
    return (f"The base commit {base} is not in this repository (history rewritten by a force-push, or never "
            "fetched): treating every filter as changed.")


def run(settings: ChangesSettings, reporter: Reporter) -> int:
    """Diff the range, decide each gate, and report: outputs, summary, and the result document."""
    from abca_deploy.gates.git import Git

    filters = build_filters(settings.filters)
    git = Git(settings.repo)
    git.check_repository()
    head = git.commit(settings.head)
    if head is None:
        msg = f"--head {settings.head!r} is not a commit in {settings.repo!r}."
        raise UserError(msg, hint="Pass the pushed commit (Actions: github.sha) and check it out first.",
                        title="Unknown --head")
    reason = undiffable_reason(git, settings.base)
    files: list[str] | None = None
    if reason:
        reporter.warning(reason, title="Every filter treated as changed")
    else:
        assert settings.base is not None
        files = git.changed_files(settings.base, head)
        reporter.info(f"{len(files)} file(s) changed between {settings.base[:12]} and {head[:12]}.")
    gates = decide(filters, files)
    _report(reporter, gates, reason)
    return 0


def _report(reporter: Reporter, gates: list[Gate], reason: str | None) -> None:
    for gate in gates:
        reporter.set_output(gate.name, gate.changed)
        if gate.files:
            reporter.debug(f"{gate.name}: {', '.join(gate.files)}")
    rows = [[g.name, "yes" if g.changed else "no", _files_cell(g), ", ".join(g.patterns)] for g in gates]
    headers = ["filter", "changed", "files", "patterns"]
    note = f"\n\n> {reason}" if reason else ""
    reporter.summary("### Changed lifecycles\n\n" + markdown_table(headers, rows) + note)
    reporter.result({g.name: g.changed for g in gates}, text_table(headers, rows))


def _files_cell(gate: Gate) -> str:
    if gate.files is None:
        return "(not diffed)"
    shown = ", ".join(gate.files[:_SHOWN_FILES])
    more = len(gate.files) - _SHOWN_FILES
    return f"{len(gate.files)}: {shown}" + (f" (+{more} more)" if more > 0 else "") if gate.files else "0"


CHANGES = Command(
    settings=ChangesSettings,
    run=run,
    help="Decide which lifecycles a git range touches. JSON: {\"runtime\": bool, \"infra\": bool, "
         "\"config\": bool, ...}; in Actions one output per filter.",
)
