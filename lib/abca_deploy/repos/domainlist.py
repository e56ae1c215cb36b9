"""Keep an integrated stack's runtime DNS Firewall domain list equal to the union of the active rows' egress.

A stack integrated with abca-deploy (``integrations/abca``) has the output ``RuntimeDomainListId``: a domain
list its rule group allows and whose content CloudFormation never rewrites. For such a stack every write
command reads the list before it writes anything (so a missing list or a missing permission stops it with
nothing written), writes its rows, then brings the list up to date. A stack without the output gets no
Route 53 call.

Bringing the list up to date is a loop: scan the active rows (a consistent read, after this command's own
writes), wait until the list has settled, read it, and if it differs REPLACE it with the union
(``egress.updates``) and go round again to verify. It ends only when a scan and a later read of the list
agree. So concurrent writers converge: whichever REPLACE lands last, its writer re-scans afterwards and sees
every row written before that scan, and a writer whose row lands later finds the list short of it when it
verifies and REPLACEs again. An update in flight (``ConflictException``) is waited out and the union
recomputed.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from abca_deploy import abca_stack
from abca_deploy.errors import AbcaError, OperationFailed
from abca_deploy.repos import egress

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from abca_deploy.aws.route53resolver import DomainLists
    from abca_deploy.report import Reporter
    from abca_deploy.repos.plan import Change
    from abca_deploy.repos.schema import RepoRow
    from abca_deploy.repos.table import RepoTable
    from abca_deploy.repos.target import Platform

ROUNDS = 8


@dataclass(frozen=True)
class DomainList:
    """The stack's runtime domain list and the adapter that reaches it."""

    list_id: str
    lists: DomainLists


def of(platform: Platform, region: str | None) -> DomainList | None:
    """The stack's runtime domain list, when its outputs name one (no AWS call)."""
    list_id = platform.outputs.get(abca_stack.DOMAIN_LIST_OUTPUT, "").strip()
    if not list_id:
        return None
    from abca_deploy.aws.route53resolver import DomainLists
    from abca_deploy.aws.session import client

    return DomainList(list_id, DomainLists(client("route53resolver", region)))


def check(found: DomainList) -> None:
    """Before writing: the list exists and can be read (else the command stops with nothing written)."""
    found.lists.domains(found.list_id)


def preview(found: DomainList, table: RepoTable, changes: Iterable[Change],
            rows: Sequence[RepoRow] | None = None) -> egress.EgressChange:
    """What the list would become once ``changes`` are written (reads only; ``rows``: a scan already made)."""
    want = egress.wanted(egress.rows_after(table.active_egress() if rows is None else rows, changes))
    listed = found.lists.domains(found.list_id)
    before = frozenset(egress.listed_form(domain) for domain in listed)
    return egress.EgressChange(found.list_id, before, want.domains, want.skipped, dry_run=True)


def _pause(attempt: int) -> None:
    # Full jitter: two writers that collided on the list do not collide again at once.
    time.sleep(random.uniform(0, min(2.0, 0.1 * 2**attempt)))


def maintain(found: DomainList, table: RepoTable, *, rounds: int = ROUNDS,
             pause: Callable[[int], None] = _pause) -> egress.EgressChange:
    """Bring the list up to date with the table, verified (see the module docstring)."""
    from abca_deploy.aws.route53resolver import DomainListBusy

    before: frozenset[str] | None = None
    sent = 0
    for attempt in range(rounds):
        want = egress.wanted(table.active_egress())
        found.lists.wait(found.list_id)
        listed = found.lists.domains(found.list_id)
        if before is None:
            before = frozenset(egress.listed_form(domain) for domain in listed)
        steps = egress.updates(listed, want.domains)
        if not steps:
            return egress.EgressChange(found.list_id, before, want.domains, want.skipped, updates=sent)
        try:
            for index, step in enumerate(steps):
                if index:
                    found.lists.wait(found.list_id)
                found.lists.update(found.list_id, step.operation, step.domains)
                sent += 1
        except DomainListBusy:
            pause(attempt)
    msg = (f"DNS Firewall domain list {found.list_id} kept changing while this command brought it up to date "
           f"({rounds} rounds).")
    raise OperationFailed(msg, hint="Re-run the command: it only changes what still differs.",
                          title="Concurrent updates")


def after_write(found: DomainList, table: RepoTable) -> egress.EgressChange:
    """``maintain``, once rows are written: a failure is recorded in the result rather than raised."""
    try:
        return maintain(found, table)
    except AbcaError as exc:
        return egress.EgressChange(found.list_id, frozenset(), frozenset(), error=exc.one_line())


def raise_if_failed(change: egress.EgressChange | None) -> None:
    """Exit 1 when the rows were written but the list could not be brought up to date."""
    if change is None or change.error is None:
        return
    msg = (f"The repo table was written, but DNS Firewall domain list {change.list_id} was not brought up to "
           f"date: {change.error}")
    raise OperationFailed(msg, hint="Fix that, then re-run the same command: it writes nothing already there "
                                    "and brings the list up to date.", title="Domain list not updated")


def warn_skipped(reporter: Reporter, change: egress.EgressChange | None) -> None:
    """Warn about row entries left out of the list (written by other tools; Route 53 may refuse them)."""
    if change is None:
        return
    for item in change.skipped:
        reporter.warning(f"{item.repo}: egress_allowlist entry {item.domain!r} is not a domain the Blueprint "
                         f"allows, so it is left out of DNS Firewall domain list {change.list_id}.",
                         title="Egress domain left out")
