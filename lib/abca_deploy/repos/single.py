"""``repo onboard``, ``repo update`` and ``repo offboard``: one repository, planned, checked, then written.

Order: validate the input (settings), apply the guardrails, check the token on GitHub, read the row, plan,
read the stack's runtime domain list (an integrated stack's); only then write the token secret and the row,
and bring the domain list up to date (``domainlist``). ``--dry-run`` stops after the plan, which includes the
domain list's planned change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from abca_deploy.repos import domainlist, guardrails, render, tokens
from abca_deploy.repos.apply import apply_one
from abca_deploy.repos.options import (
    FieldSettings,
    OffboardSettings,
    OnboardSettings,
    UpdateSettings,
    wanted_fields,
)
from abca_deploy.repos.plan import check_size, plan_offboard, plan_onboard, plan_update
from abca_deploy.repos.schema import PENDING_SECRET, RepoRow
from abca_deploy.repos.target import aws_client, check_compute, check_model, notes, now, resolve

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.aws.secrets import Secrets
    from abca_deploy.report import Reporter
    from abca_deploy.repos.egress import EgressChange
    from abca_deploy.repos.plan import Change
    from abca_deploy.repos.schema import Value
    from abca_deploy.repos.target import Platform
    from abca_deploy.repos.tokens import TokenPlan

TOKEN_TEXT = {"create": "stored in a new secret", "new-version": "stored as a new secret version",
              "restore": "secret restored from scheduled deletion", "unchanged": "unchanged"}


def run_write(settings: OnboardSettings | UpdateSettings | OffboardSettings, reporter: Reporter) -> int:
    """Plan and apply one repository's change."""
    repo = settings.repo
    wanted = wanted_fields(settings) if isinstance(settings, FieldSettings) else {}
    if not isinstance(settings, OffboardSettings):
        guardrails.check_owners([repo], settings.allowed_owners)
    guardrails.check_actor(settings.required_permission, settings.platform_token_env, settings.github_api_url,
                           reporter)
    token, token_plan, secrets = _token(settings, reporter)
    platform = resolve(settings)
    check_compute(platform, wanted.get("compute_type"))
    check_model(settings, platform, wanted.get("model_id"))
    if token_plan is not None:
        wanted["github_token_secret_arn"] = token_plan.arn or PENDING_SECRET
    planner = _planner(settings, wanted)
    current = platform.table.get(repo)
    change = planner(current)
    check_size([change])
    if isinstance(settings, OnboardSettings):
        _refuse_token_change(repo, current, token_plan)
        if change.action in ("create", "reactivate") and settings.max_repos is not None:
            guardrails.check_capacity(platform.table.count_active(), 1, settings.max_repos)
    domains = domainlist.of(platform, settings.aws_region)
    egress: EgressChange | None = None
    if settings.dry_run:
        egress = domainlist.preview(domains, platform.table, [change]) if domains else None
    else:
        if domains:
            domainlist.check(domains)
        if token_plan is not None and token_plan.changed and secrets is not None and token is not None:
            wanted["github_token_secret_arn"] = tokens.store(secrets, token_plan, token, repo, reporter)
            planner = _planner(settings, wanted)
            change = planner(current)
        change, _ = apply_one(platform.table, change, planner)
        egress = domainlist.after_write(domains, platform.table) if domains else None
    _report(settings, reporter, change, token_plan, platform, egress)
    domainlist.raise_if_failed(egress)
    return 0


def _token(settings: Any, reporter: Reporter) -> tuple[str | None, TokenPlan | None, Secrets | None]:
    """Read, mask and check the token, and plan its secret (reads only)."""
    if not isinstance(settings, FieldSettings) or settings.github_token_env is None:
        return None, None, None
    from abca_deploy.aws.secrets import Secrets
    from abca_deploy.github import DEFAULT_API_URL, GitHub

    token = tokens.read_token(settings.github_token_env, reporter)
    api_url = settings.github_api_url or _env("GITHUB_API_URL") or DEFAULT_API_URL
    tokens.check_access(settings.repo, GitHub(token, api_url).repo_access(settings.repo), api_url)
    secrets = Secrets(aws_client("secretsmanager", settings))
    return token, tokens.inspect(secrets, tokens.secret_name(settings.repo), token, reporter), secrets


def _env(name: str) -> str | None:
    import os

    return os.environ.get(name) or None


def _planner(settings: Any, wanted: dict[str, Value]) -> Callable[[RepoRow | None], Change]:
    """The pure planning function for this command, bound to what it wants (re-run on conflict)."""
    when, fields = now(), dict(wanted)
    if isinstance(settings, OffboardSettings):
        return lambda row: plan_offboard(settings.repo, row, when)
    if isinstance(settings, UpdateSettings):
        return lambda row: plan_update(settings.repo, row, fields, settings.unset, when)
    return lambda row: plan_onboard(settings.repo, row, fields, when)


def _refuse_token_change(repo: str, current: RepoRow | None, token_plan: TokenPlan | None) -> None:
    """Onboarding an active repository is a no-op or a refusal; a new token value counts as a difference."""
    from abca_deploy.errors import UserError

    if current is not None and current.active and token_plan is not None and token_plan.changed:
        msg = f"{repo} is already onboarded and its token differs from the one stored."
        hint = f"Use `abca-deploy repo update {repo} --github-token-env VAR` to rotate it."
        raise UserError(msg, hint=hint,
                        title="Repository already onboarded")


def _report(settings: Any, reporter: Reporter, change: Change, token_plan: TokenPlan | None,
            platform: Platform, egress: EgressChange | None) -> None:
    dry_run = bool(settings.dry_run)
    changed = change.changed or bool(token_plan and token_plan.changed) or bool(egress and egress.changed)
    row = change.target or change.current
    for note in notes(change, platform.outputs):
        reporter.warning(f"{change.repo}: {note}", title="Check the platform stack")
    domainlist.warn_skipped(reporter, egress)
    reporter.set_output("repo", change.repo)
    reporter.set_output("status", row.status if row else "")
    reporter.set_output("changed", changed)
    text = render.change_text(change, dry_run=dry_run)
    if token_plan is not None:
        text += f"\n  github token: {'would be ' if dry_run and token_plan.changed else ''}" \
                f"{TOKEN_TEXT[token_plan.action]}"
    if egress is not None:
        text += "\n" + render.egress_text(egress)
    heading = f"### Repository `{change.repo}`: {(render.PLANNED if dry_run else render.DONE)[change.action]}"
    summary = heading + "\n\n" + render.changes_markdown([change], dry_run=dry_run)
    reporter.summary(summary + (f"\n\n{render.egress_markdown(egress)}" if egress is not None else ""))
    reporter.result({
        "repo": render.row_document(row) if row else {"repo": change.repo},
        "action": change.action, "changed": changed, "dry_run": dry_run,
        "changes": render.change_document(change)["changes"],
        "token": token_plan.action if token_plan else None,
        "notes": notes(change, platform.outputs),
        "egress": render.egress_document(egress),
    }, text)

