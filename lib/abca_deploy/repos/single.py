"""``repo onboard``, ``repo update`` and ``repo offboard``: one repository, planned, checked, then written.

Order: validate the input (settings), apply the guardrails, check the token on GitHub, read the row, plan,
read the stack's runtime domain list (an integrated stack's); only then write the token secret and the row,
and bring the domain list up to date (``domainlist``). ``--dry-run`` stops after the plan, which includes the
domain list's planned change.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from abca_deploy.repos import domainlist, guardrails, operations, render, tokens
from abca_deploy.repos.operations import Guardrails, Intent
from abca_deploy.repos.options import (
    FieldSettings,
    OffboardSettings,
    UpdateSettings,
    wanted_fields,
)
from abca_deploy.repos.target import aws_client, notes, now, resolve

if TYPE_CHECKING:
    from abca_deploy.report import Reporter
    from abca_deploy.repos.operations import Kind, NewToken, Written
    from abca_deploy.repos.options import GuardrailSettings, OnboardSettings
    from abca_deploy.repos.target import Platform



def run_write(settings: OnboardSettings | UpdateSettings | OffboardSettings, reporter: Reporter) -> int:
    """Plan and apply one repository's change (through the repository API with ``--api-url``)."""
    if settings.api_url:
        from abca_deploy.repos.via_api import run_remote_write

        return run_remote_write(settings, reporter)
    intent = intent_of(settings)
    limits = guardrails_of(settings)
    operations.check_intent(intent, limits)
    guardrails.check_actor(settings.required_permission, settings.platform_token_env, settings.github_api_url,
                           reporter)
    token = _token(settings, reporter)
    platform = resolve(settings)
    written = operations.write(platform, intent, limits, token=token, masker=reporter,
                               dry_run=settings.dry_run, when=now(),
                               domains=domainlist.of(platform, settings.aws_region))
    _report(settings, reporter, written, platform)
    domainlist.raise_if_failed(written.egress)
    return 0


def intent_of(settings: OnboardSettings | UpdateSettings | OffboardSettings) -> Intent:
    """What the command asks for, from its settings."""
    kind: Kind = ("offboard" if isinstance(settings, OffboardSettings) else
                  "update" if isinstance(settings, UpdateSettings) else "onboard")
    wanted = wanted_fields(settings) if isinstance(settings, FieldSettings) else {}
    unset = frozenset(settings.unset) if isinstance(settings, UpdateSettings) else frozenset()
    return Intent(kind, settings.repo, MappingProxyType(wanted), unset)


def guardrails_of(settings: GuardrailSettings) -> Guardrails:
    """The guardrails the settings configure."""
    return Guardrails(tuple(settings.allowed_owners), settings.max_repos, settings.require_token,
                      tuple(settings.allowed_models))


def _token(settings: Any, reporter: Reporter) -> NewToken | None:
    """Read, mask and check the token, and plan its secret (reads only)."""
    if not isinstance(settings, FieldSettings) or settings.github_token_env is None:
        return None
    from abca_deploy.aws.secrets import Secrets
    from abca_deploy.github import api_root

    token = tokens.read_token(settings.github_token_env, reporter)
    api_url = api_root(settings.github_api_url)
    secrets = Secrets(aws_client("secretsmanager", settings))
    return operations.check_token(settings.repo, token, api_url, secrets, reporter)


def _report(settings: Any, reporter: Reporter, written: Written, platform: Platform) -> None:
    dry_run = bool(settings.dry_run)
    change, token_plan, egress = written.change, written.token, written.egress
    row = change.target or change.current
    found = notes(change, platform.outputs)
    for note in found:
        reporter.warning(f"{change.repo}: {note}", title="Check the platform stack")
    domainlist.warn_skipped(reporter, egress)
    reporter.set_output("repo", change.repo)
    reporter.set_output("status", row.status if row else "")
    reporter.set_output("changed", written.changed)
    text = render.change_text(change, dry_run=dry_run)
    if token_plan is not None:
        text += "\n" + render.token_line(token_plan.action, dry_run=dry_run)
    if egress is not None:
        text += "\n" + render.egress_text(egress)
    heading = f"### Repository `{change.repo}`: {(render.PLANNED if dry_run else render.DONE)[change.action]}"
    summary = heading + "\n\n" + render.changes_markdown([change], dry_run=dry_run)
    reporter.summary(summary + (f"\n\n{render.egress_markdown(egress)}" if egress is not None else ""))
    reporter.result(render.write_document(written, row, found, dry_run=dry_run), text)

