"""``repo sync``: make the table match repos.yaml. Validate it all, plan every row, apply in parallel.

Order: the file (read and validated locally), the guardrails, the stack (outputs: table, granted models,
compute; template: the repositories its CDK Blueprints own), the table scan and the plan, a read of the
stack's runtime domain list (an integrated stack's); only then ``apply_many`` writes, and ``domainlist``
brings the domain list up to date. Rows a Blueprint declares belong to CDK (see ``ownership``) and are never
written (their egress domains count towards the domain list like any active row's).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from abca_deploy.errors import UserError
from abca_deploy.lease import table_lease
from abca_deploy.repos import domainlist, guardrails, models, ownership, render, repofile
from abca_deploy.repos.apply import apply_many
from abca_deploy.repos.plan import Change, check_size, plan_declared, plan_offboard
from abca_deploy.repos.schema import SECRET_FIELD
from abca_deploy.repos.target import cdk_declared, check_compute, grouped_notes, now, resolve

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from abca_deploy.report import Reporter
    from abca_deploy.repos.blueprints import Declared
    from abca_deploy.repos.egress import EgressChange
    from abca_deploy.repos.options import SyncSettings
    from abca_deploy.repos.schema import RepoRow, Value
    from abca_deploy.repos.target import Platform

ORDER = ("create", "update", "reactivate", "offboard", "unchanged")
TITLE = "Invalid repos file"


def plan_sync(rows: Sequence[RepoRow], declared: Mapping[str, Mapping[str, Value]], prune: bool,
              when: datetime, cdk_owned: frozenset[str] = frozenset()) -> list[Change]:
    """One change per declared repository, plus an offboard per undeclared active row with ``prune``.

    ``declared`` holds only the repositories the table owns; rows in ``cdk_owned`` are never offboarded.
    """
    by_repo = {row.repo: row for row in rows}
    changes = [plan_declared(repo, by_repo.get(repo), fields, when) for repo, fields in declared.items()]
    if prune:
        changes += [plan_offboard(r.repo, r, when) for r in rows
                    if r.repo not in declared and r.repo not in cdk_owned and r.active]
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
    return ", ".join(parts) if parts else "no repositories for the table to sync"


def _refuse(reporter: Reporter, errors: Sequence[str]) -> None:
    for error in errors[:-1]:
        reporter.error(error, title=TITLE)
    raise UserError(errors[-1], title=TITLE)


def _check_platform(settings: SyncSettings, parsed: repofile.RepoFile, platform: Platform,
                    reporter: Reporter) -> None:
    """What the stack decides: granted models and provisioned compute."""
    granted = models.grant(platform.outputs, platform.stack, settings.allowed_models)
    errors = repofile.check_models(settings.file, parsed, granted)
    if errors:
        _refuse(reporter, errors)
    for repo, fields in parsed.repos.items():
        check_compute(platform, fields.get("compute_type"), repo)


def _cdk_conflicts(settings: SyncSettings, parsed: repofile.RepoFile,
                   owned: Mapping[str, Mapping[str, Value]], cdk: Mapping[str, Declared],
                   rows: Sequence[RepoRow], stack: str | None) -> list[str]:
    by_repo = {row.repo: row for row in rows}
    errors = []
    for repo, fields in owned.items():
        diffs = ownership.differences(cdk[repo], fields, by_repo.get(repo))
        if diffs:
            errors.append(f"{parsed.at(settings.file, repo)}: declared by the CDK Blueprint "
                          f"{cdk[repo].where} of stack {stack}, which owns its row, and the file differs in "
                          f"{'; '.join(diffs)}. Change it in the CDK app, or remove it from the file.")
    return errors


def _check_prune(settings: SyncSettings, table_owned: Mapping[str, object],
                 changes: Sequence[Change]) -> None:
    """An empty desired set with --prune offboards everything the table owns: only with a confirmation."""
    offboards = sum(c.action == "offboard" for c in changes)
    if settings.prune and not table_owned and offboards and not settings.confirm_prune_all:
        msg = (f"--prune: {settings.file} declares no repositories the table owns, so --prune would offboard "
               f"all {offboards} active ones.")
        raise UserError(msg, hint="If that is what you want, add --confirm-prune-all.",
                        title="Refused by a guardrail")


def run_sync(settings: SyncSettings, reporter: Reporter) -> int:
    """Validate, guard, plan, apply, report."""
    with reporter.group("Validate the repos file"):
        parsed = repofile.load(settings.file)
    if parsed.errors:
        _refuse(reporter, parsed.errors)
    guardrails.check_owners(parsed.repos, settings.allowed_owners)
    guardrails.check_actor(settings.required_permission, settings.platform_token_env, settings.github_api_url,
                           reporter)
    if settings.prune and settings.repo_table:
        msg = ("--prune needs the stack, to spare the repositories its CDK Blueprints own, but --repo-table "
               "skips it.")
        raise UserError(msg, hint="Name the stack with --stack-name instead of --repo-table.",
                        title="Invalid --prune")
    platform = resolve(settings)
    _check_platform(settings, parsed, platform, reporter)
    cdk = cdk_declared(settings, platform)
    table_owned, owned = ownership.split(parsed.repos, cdk)
    domains = domainlist.of(platform, settings.aws_region)
    egress: EgressChange | None = None
    # The table's lease, from the scan to the last write (the domain list included): a concurrent sync waits,
    # then plans afresh.
    with table_lease(platform.table.name, settings.aws_region, reporter, enabled=not settings.dry_run):
        with reporter.group("Plan"):
            rows = platform.table.scan()
            conflicts = _cdk_conflicts(settings, parsed, owned, cdk, rows, platform.stack)
            if conflicts:
                _refuse(reporter, conflicts)
            when = now()
            changes = plan_sync(rows, table_owned, settings.prune, when, frozenset(cdk))
            check_size(changes)
            _check_prune(settings, table_owned, changes)
            guardrails.check_capacity(sum(r.active for r in rows), added(changes), settings.max_repos)
            for change in changes:
                if change.action in ("create", "reactivate") and change.target is not None:
                    own_token = SECRET_FIELD in change.target.fields
                    guardrails.check_token_required(change.repo, own_token, settings.require_token)
            reporter.info(f"Plan: {counts_text(changes, dry_run=True)}.")
            if domains is not None and settings.dry_run:
                egress = domainlist.preview(domains, platform.table, changes, rows)
            elif domains is not None:
                domainlist.check(domains)
        if not settings.dry_run and any(c.changed for c in changes):
            with reporter.group("Apply"):
                changes = apply_many(platform.table, changes, _replanner(table_owned, when))
        if domains is not None and not settings.dry_run:
            with reporter.group("Egress domain list"):
                egress = domainlist.after_write(domains, platform.table)
    _report(settings, reporter, changes, platform.outputs, sorted(cdk.values(), key=lambda d: d.repo), egress)
    domainlist.raise_if_failed(egress)
    return 0


def _replanner(declared: Mapping[str, Mapping[str, Value]], when: datetime) -> Callable[
        [str], Callable[[RepoRow | None], Change]]:
    def for_repo(repo: str) -> Callable[[RepoRow | None], Change]:
        return lambda row: plan_declared(repo, row, declared.get(repo), when)

    return for_repo


def _report(settings: SyncSettings, reporter: Reporter, changes: list[Change], outputs: Mapping[str, str],
            cdk: Sequence[Declared], egress: EgressChange | None) -> None:
    dry_run = settings.dry_run
    changed = [c for c in changes if c.changed]
    notes = grouped_notes(changes, outputs)
    for note in notes:
        reporter.warning(note, title="Check the platform stack")
    domainlist.warn_skipped(reporter, egress)
    anything = bool(changed) or bool(egress and egress.changed)
    reporter.set_output("repo", "\n".join(c.repo for c in changed))
    reporter.set_output("status", "planned" if dry_run else "synced")
    reporter.set_output("changed", anything)
    counts = counts_text(changes, dry_run=dry_run)
    owned = f"\n\nOwned by CDK (left to `cdk deploy`): {', '.join(f'`{d.repo}`' for d in cdk)}" if cdk else ""
    listed = f"\n\n{render.egress_markdown(egress)}" if egress is not None else ""
    reporter.summary(f"### Repositories sync ({settings.file}): {counts}\n\n"
                     + render.changes_markdown(changes, dry_run=dry_run) + owned + listed)
    lines = [render.change_text(c, dry_run=dry_run) for c in changed]
    lines += [f"{d.repo}: owned by CDK ({d.where}), left to cdk deploy" for d in cdk]
    lines += [render.egress_text(egress)] if egress is not None else []
    text = "\n".join([*lines, f"{settings.file}: {counts}."])
    reporter.result({
        "file": str(settings.file), "dry_run": dry_run, "changed": anything,
        "counts": {a: n for a, n in Counter(c.action for c in changes).items()},
        "changes": [render.change_document(c) for c in changed], "notes": notes,
        "cdk_owned": [{"repo": d.repo, "construct": d.where} for d in cdk],
        "egress": render.egress_document(egress),
    }, text)
