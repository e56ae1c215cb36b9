"""What an integrated stack's runtime DNS Firewall domain list must hold, decided by pure functions.

The list must equal the union of the active rows' ``egress_allowlist``. Domains compare normalised: lower case
(DNS names are case-insensitive) and without the trailing dot Route 53 adds when it stores a domain, so
``example.com`` and ``Example.com.`` are one domain. Rows a CDK ``Blueprint`` owns count like any other: while
the Blueprint exists its domains are also in ABCA's synth-time list (a second ALLOW of the same domain changes
nothing), the invariant stays checkable from the table alone, and the list follows what the row says.

A domain in a row that the Blueprint's rule would refuse (``*``, spaces, over 253 characters; such rows are
written by hand or by other tools) is left out and reported: one such entry must not make Route 53 refuse the
whole update and block every onboarding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from abca_deploy.repos.validate import DOMAIN_MAX, DOMAIN_PATTERN

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from abca_deploy.repos.plan import Change
    from abca_deploy.repos.schema import RepoRow

FIELD = "egress_allowlist"


def normalize(domain: str) -> str | None:
    """``domain`` lower-cased without its trailing dot, or ``None`` when the Blueprint's rule refuses it."""
    bare = domain.strip().lower()
    bare = bare[:-1] if bare.endswith(".") else bare
    if not bare or len(bare) > DOMAIN_MAX or not DOMAIN_PATTERN.fullmatch(bare):
        return None
    return bare


def listed_form(domain: str) -> str:
    """How a domain read back from the list compares: its normal form, else itself in lower case."""
    return normalize(domain) or domain.strip().lower().removesuffix(".")


@dataclass(frozen=True)
class Skipped:
    """An entry of a row's ``egress_allowlist`` left out of the list, because Route 53 may refuse it."""

    repo: str
    domain: str


@dataclass(frozen=True)
class Wanted:
    """The domains the list must hold, and the entries left out."""

    domains: frozenset[str]
    skipped: tuple[Skipped, ...] = ()


def row_domains(row: RepoRow) -> tuple[str, ...]:
    """A row's egress domains, stored as a list (as the Blueprint writes it) or as a string set."""
    value = row.fields.get(FIELD)
    if isinstance(value, tuple):
        return value
    stored = row.extra.get(FIELD)
    if isinstance(stored, dict) and isinstance(stored.get("SS"), list):
        return tuple(str(item) for item in stored["SS"])
    return ()


def wanted(rows: Iterable[RepoRow]) -> Wanted:
    """The union of the active rows' domains, normalised."""
    domains: set[str] = set()
    skipped: list[Skipped] = []
    for row in sorted(rows, key=lambda r: r.repo):
        if not row.active:
            continue
        for raw in row_domains(row):
            bare = normalize(raw)
            if bare is None:
                skipped.append(Skipped(row.repo, raw))
            else:
                domains.add(bare)
    return Wanted(frozenset(domains), tuple(skipped))


def rows_after(rows: Iterable[RepoRow], changes: Iterable[Change]) -> list[RepoRow]:
    """The rows as they will be once the planned ``changes`` are written."""
    by_repo = {row.repo: row for row in rows}
    for change in changes:
        if change.changed and change.target is not None:
            by_repo[change.repo] = change.target
    return list(by_repo.values())


MAX_PER_REQUEST = 1000
"""``UpdateFirewallDomains`` takes at most 1000 domains a request (Route 53 API Reference)."""


@dataclass(frozen=True)
class Update:
    """One ``UpdateFirewallDomains`` request."""

    operation: str
    domains: tuple[str, ...]


def _chunks(operation: str, domains: Sequence[str], limit: int) -> tuple[Update, ...]:
    return tuple(Update(operation, tuple(domains[i:i + limit])) for i in range(0, len(domains), limit))


def updates(listed: Sequence[str], want: frozenset[str], limit: int = MAX_PER_REQUEST) -> tuple[Update, ...]:
    """The requests, in order, that make the list hold exactly ``want``; none when it already does.

    One REPLACE with the whole union (so a domain only a removed repository needed goes), applied atomically.
    Route 53 refuses an update without domains, so emptying the list REMOVEs what it holds, exactly as read;
    and it takes at most 1000 domains a request, so a larger union is reached by ADDing what is missing, then
    REMOVing what is left over (the list is never short of a wanted domain on the way).
    """
    held = {listed_form(domain) for domain in listed}
    if held == want:
        return ()
    if want and len(want) <= limit:
        return (Update("REPLACE", tuple(sorted(want))),)
    extra = [domain for domain in listed if listed_form(domain) not in want]
    return _chunks("ADD", sorted(want - held), limit) + _chunks("REMOVE", extra, limit)


@dataclass(frozen=True)
class EgressChange:
    """What the list held when first read, what it holds after (or would, in a dry run), what was left out.

    ``error`` says why the list could not be brought up to date after the rows were written.
    """

    list_id: str
    before: frozenset[str]
    after: frozenset[str]
    skipped: tuple[Skipped, ...] = ()
    dry_run: bool = False
    updates: int = 0
    error: str | None = None

    @property
    def added(self) -> tuple[str, ...]:
        """Domains the list gained."""
        return tuple(sorted(self.after - self.before))

    @property
    def removed(self) -> tuple[str, ...]:
        """Domains the list lost."""
        return tuple(sorted(self.before - self.after))

    @property
    def changed(self) -> bool:
        """Whether the list's content changed (or would)."""
        return self.before != self.after
