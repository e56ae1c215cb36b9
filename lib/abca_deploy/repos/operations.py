"""Onboard, update or offboard one repository: the one code path behind every front door.

The CLI (``single.py``) and the repository API (``abca_deploy.api``) parse their input their own way, then
call these functions with plain values: ``check_intent`` (guardrails that need no AWS), ``check_token``
(GitHub, then a read of the token's secret), and ``write`` (read the row, plan, refuse, store the token, write
the row conditionally). So a row written through the API is the row the CLI would write, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from abca_deploy.repos import domainlist, guardrails, tokens
from abca_deploy.repos.apply import apply_one
from abca_deploy.repos.errors import AlreadyOnboarded
from abca_deploy.repos.plan import check_size, plan_offboard, plan_onboard, plan_update
from abca_deploy.repos.schema import PENDING_SECRET, SECRET_FIELD
from abca_deploy.repos.target import check_compute, check_model
from abca_deploy.repos.writes import build

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from abca_deploy.aws.secrets import Secrets
    from abca_deploy.repos.domainlist import DomainList
    from abca_deploy.repos.egress import EgressChange
    from abca_deploy.repos.plan import Change
    from abca_deploy.repos.schema import RepoRow, Value
    from abca_deploy.repos.target import Platform
    from abca_deploy.repos.tokens import Masker, TokenPlan

    Replan = Callable[[RepoRow | None], Change]

Kind = Literal["onboard", "update", "offboard"]


@dataclass(frozen=True)
class Guardrails:
    """The configured guardrails (the CLI's flags, the API's settings)."""

    allowed_owners: tuple[str, ...] = ()
    max_repos: int | None = None
    require_token: bool = False
    allowed_models: tuple[str, ...] = ()  # an explicit override of the models the stack grants


@dataclass(frozen=True)
class Intent:
    """What a caller asks for: ``wanted`` attributes to set (validated already), ``unset`` ones to remove."""

    kind: Kind
    repo: str
    wanted: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    unset: frozenset[str] = frozenset()


@dataclass(frozen=True)
class NewToken:
    """A repository's GitHub token, checked on GitHub, and what storing it would do to its secret."""

    value: str = field(repr=False)
    plan: TokenPlan
    secrets: Secrets


@dataclass(frozen=True)
class Written:
    """The change as applied (or planned, in a dry run), the row afterwards, and what the token did."""

    change: Change
    row: RepoRow | None
    token: TokenPlan | None = None
    egress: EgressChange | None = None  # the stack's runtime domain list, when it has one

    @property
    def changed(self) -> bool:
        """Whether anything was (or would be) written: the row, the token's secret or the domain list."""
        return (self.change.changed or bool(self.token and self.token.changed)
                or bool(self.egress and self.egress.changed))


def check_intent(intent: Intent, limits: Guardrails) -> None:
    """The guardrails decided before anything is read: the repository's owner must be allowed."""
    if intent.kind != "offboard":
        guardrails.check_owners([intent.repo], limits.allowed_owners)


def check_token(repo: str, token: str, api_url: str, secrets: Secrets, masker: Masker) -> NewToken:
    """Refuse a token that cannot push to ``repo``; plan its secret (reads only)."""
    check_token_access(repo, token, api_url, masker)
    return plan_token(repo, token, secrets, masker)


def check_token_access(repo: str, token: str, api_url: str, masker: Masker) -> None:
    """Ask GitHub (``api_url``) whether ``token`` can push to ``repo``; ``Refused`` if it cannot."""
    from abca_deploy.github import GitHub

    masker.mask(token)
    tokens.check_access(repo, GitHub(token, api_url).repo_access(repo), api_url)


def plan_token(repo: str, token: str, secrets: Secrets, masker: Masker) -> NewToken:
    """What storing ``token`` would do to ``repo``'s secret (reads only)."""
    return NewToken(token, tokens.inspect(secrets, tokens.secret_name(repo), token, masker), secrets)


def planner(intent: Intent, wanted: Mapping[str, Value], when: datetime) -> Replan:
    """The pure planning function for ``intent`` (re-run on a write conflict)."""
    fields = dict(wanted)
    if intent.kind == "offboard":
        return lambda row: plan_offboard(intent.repo, row, when)
    if intent.kind == "update":
        return lambda row: plan_update(intent.repo, row, fields, intent.unset, when)
    return lambda row: plan_onboard(intent.repo, row, fields, when)


def write(platform: Platform, intent: Intent, limits: Guardrails, *, token: NewToken | None, masker: Masker,
          dry_run: bool, when: datetime, expect: Callable[[RepoRow | None], None] | None = None,
          domains: DomainList | None = None) -> Written:
    """Read the row, plan, apply the guardrails, then (unless ``dry_run``) store the token and write the row,
    and bring the stack's runtime domain list (``domains``, see ``domainlist``) up to date with the table.

    ``expect`` sees the row as read and may refuse it (the API's ``If-Match``); the write is then conditioned
    on the whole row being unchanged and is not retried: ``WriteConflict`` reaches the caller. Without it, a
    conflicting write is re-read and re-planned, so concurrent writers of different fields all land.
    """
    check_compute(platform, intent.wanted.get("compute_type"))
    check_model(limits.allowed_models, platform, intent.wanted.get("model_id"))
    wanted = dict(intent.wanted)
    if token is not None:
        wanted[SECRET_FIELD] = token.plan.arn or PENDING_SECRET
    plan = planner(intent, wanted, when)
    current = platform.table.get(intent.repo)
    if expect is not None:
        expect(current)
    change = plan(current)
    check_size([change])
    if intent.kind == "onboard":
        _check_onboard(platform, intent.repo, current, change, token, limits)
    token_plan = token.plan if token is not None else None
    if dry_run:
        preview = domainlist.preview(domains, platform.table, [change]) if domains is not None else None
        return Written(change, change.target or change.current, token_plan, preview)
    if domains is not None:
        domainlist.check(domains)  # a missing list or a missing permission: stop before anything is written
    if token is not None and token.plan.changed:
        wanted[SECRET_FIELD] = tokens.store(token.secrets, token.plan, token.value, intent.repo, masker)
        plan = planner(intent, wanted, when)
        change = plan(current)
    if expect is None:
        change, row = apply_one(platform.table, change, plan)
    elif change.changed:
        row = platform.table.write(build(change, exact=True)) or change.target
    else:
        row = current
    egress = domainlist.after_write(domains, platform.table) if domains is not None else None
    return Written(change, row, token_plan, egress)


def _check_onboard(platform: Platform, repo: str, current: RepoRow | None, change: Change,
                   token: NewToken | None, limits: Guardrails) -> None:
    """Onboarding refuses a new token for an active repository, too many repositories, or a missing token."""
    if current is not None and current.active and token is not None and token.plan.changed:
        msg = f"{repo} is already onboarded and its token differs from the one stored."
        hint = f"Use `abca-deploy repo update {repo} --github-token-env VAR` to rotate it."
        raise AlreadyOnboarded(msg, hint=hint, title="Repository already onboarded")
    if change.action not in ("create", "reactivate") or change.target is None:
        return
    if limits.max_repos is not None:
        guardrails.check_capacity(platform.table.count_active(), 1, limits.max_repos)
    guardrails.check_token_required(repo, SECRET_FIELD in change.target.fields, limits.require_token)
