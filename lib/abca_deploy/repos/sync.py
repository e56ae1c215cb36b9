"""``repo sync``: make the table match repos.yaml. Validate it all, plan every row, apply in parallel."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from abca_deploy.errors import UserError
from abca_deploy.lease import table_lease
from abca_deploy.repos import guardrails, render, repofile
from abca_deploy.repos.apply import apply_many
from abca_deploy.repos.plan import Change, plan_declared, plan_offboard
from abca_deploy.repos.target import check_compute, grouped_notes, now, resolve

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from abca_deploy.report import Reporter
    from abca_deploy.repos.options import SyncSettings
    from abca_deploy.repos.schema import RepoRow, Value

ORDER = ("create", "update", "reactivate", "offboard", "unchanged")


def plan_sync(rows: Sequence[RepoRow], declared: Mapping[str, Mapping[str, Value]], prune: bool,
              when: datetime) -> list[Change]:
    """One change per declared repository, plus an offboard per undeclared active row with ``prune``."""
    by_repo = {row.repo: row for row in rows}
    changes = [plan_declared(repo, by_repo.get(repo), fields, when) for repo, fields in declared.items()]
    if prune:
        changes += [plan_offboard(r.repo, r, when) for r in rows if r.repo not in declared and r.active]
    return changes


def added(changes: Sequence[Change]) -> int:
    """How the number of active rows changes."""
    adds = sum(c.action in ("create", "reactivate") for c in changes)
    return adds - sum(c.action == "offboard" for c in changes)


def counts_text(changes: Sequence[Change], *, dry_run: bool) -> str:
    """``2 to create, 1 to update, 497 unchanged`` (or ``created``... after applying)."""
    counts = Counter[str](c.action for c in changes)
    verbs = render.PLANNED if dry_run else render.DONE
    parts = [f"{counts[a]} {verbs[a].removeprefix('would ')}" for a in ORDER if counts[a]]
    return ", ".join(parts) if parts else "no repositories declared"


def run_sync(settings: SyncSettings, reporter: Reporter) -> int:
    """Validate, guard, plan, apply, report."""
    with reporter.group("Validate the repos file"):
        parsed = repofile.load(settings.file, settings.allowed_models)
    if parsed.errors:
        for error in parsed.errors[:-1]:
            reporter.error(error, title="Invalid repos file")
        raise UserError(parsed.errors[-1], title="Invalid repos file")
    guardrails.check_owners(parsed.repos, settings.allowed_owners)
    guardrails.check_actor(settings.required_permission, settings.platform_token_env, settings.github_api_url,
                           reporter)
    platform = resolve(settings)
    for repo, fields in parsed.repos.items():
        check_compute(platform, fields.get("compute_type"), repo)
    # The table's lease, from the scan to the last write: a concurrent sync waits, then plans afresh.
    with table_lease(platform.table.name, settings.aws_region, reporter, enabled=not settings.dry_run):
        with reporter.group("Plan"):
            rows = platform.table.scan()
            when = now()
            changes = plan_sync(rows, parsed.repos, settings.prune, when)
            guardrails.check_capacity(sum(r.active for r in rows), added(changes), settings.max_repos)
            reporter.info(f"Plan: {counts_text(changes, dry_run=True)}.")
        if not settings.dry_run and any(c.changed for c in changes):
            with reporter.group("Apply"):
                changes = apply_many(platform.table, changes, _replanner(parsed.repos, when))
    _report(settings, reporter, changes, platform.outputs)
    return 0


def _replanner(declared: Mapping[str, Mapping[str, Value]], when: datetime) -> Callable[
        [str], Callable[[RepoRow | None], Change]]:
    def for_repo(repo: str) -> Callable[[RepoRow | None], Change]:
        return lambda row: plan_declared(repo, row, declared.get(repo), when)

    return for_repo


def _report(settings: SyncSettings, reporter: Reporter, changes: list[Change],
            outputs: Mapping[str, str]) -> None:
    dry_run = settings.dry_run
    changed = [c for c in changes if c.changed]
    notes = grouped_notes(changes, outputs)
    for note in notes:
        reporter.warning(note, title="Check the platform stack")
    reporter.set_output("repo", "\n".join(c.repo for c in changed))
    reporter.set_output("status", "planned" if dry_run else "synced")
    reporter.set_output("changed", bool(changed))
    counts = counts_text(changes, dry_run=dry_run)
    reporter.summary(f"### Repositories sync ({settings.file}): {counts}\n\n"
                     + render.changes_markdown(changes, dry_run=dry_run))
    lines = [render.change_text(c, dry_run=dry_run) for c in changed]
    text = "\n".join([*lines, f"{settings.file}: {counts}."])
    reporter.result({
        "file": str(settings.file), "dry_run": dry_run, "changed": bool(changed),
        "counts": {a: n for a, n in Counter(c.action for c in changes).items()},
        "changes": [render.change_document(c) for c in changed], "notes": notes,
    }, text)
