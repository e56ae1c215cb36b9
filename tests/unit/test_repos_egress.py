"""The runtime domain list's decisions: normalisation, the union of the active rows, the update to send."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from hypothesis import given
from hypothesis import strategies as st

from abca_deploy.repos import egress
from abca_deploy.repos.plan import plan_offboard, plan_onboard
from abca_deploy.repos.schema import ACTIVE, REMOVED, RepoRow

if TYPE_CHECKING:
    import random

Spec = list[tuple[str, list[tuple[str, bool, bool]]]]

NOW = datetime(2026, 8, 14, 12, 0, tzinfo=UTC)

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
DOMAIN = st.builds(lambda wild, labels: ("*." if wild else "") + ".".join(labels),
                   st.booleans(), st.lists(LABEL, min_size=1, max_size=4))


def spelled(domain: str, upper: bool, dot: bool) -> str:
    """The same domain as a row or Route 53 may spell it: any case, with or without the trailing dot."""
    return (domain.upper() if upper else domain) + ("." if dot else "")


def row(repo: str, domains: tuple[str, ...], status: str = ACTIVE) -> RepoRow:
    return RepoRow(repo, status=status, fields=MappingProxyType({"egress_allowlist": domains}))


SPELLED = st.tuples(DOMAIN, st.booleans(), st.booleans())
ROW_SPECS = st.lists(st.tuples(st.sampled_from([ACTIVE, REMOVED]), st.lists(SPELLED, max_size=5)), max_size=8)


def rows_of(specs: Spec) -> list[RepoRow]:
    """Rows whose egress_allowlist spells each domain as the spec says."""
    return [row(f"octo/r{i}", tuple(spelled(*entry) for entry in entries), status)
            for i, (status, entries) in enumerate(specs)]


def canonical(specs: Spec, skip: int | None = None) -> set[str]:
    """The domains of the active rows (but row ``skip``), as they were generated."""
    return {domain for i, (status, entries) in enumerate(specs) if status == ACTIVE and i != skip
            for domain, _, _ in entries}


def test_normalize_examples() -> None:
    assert egress.normalize("Example.COM.") == "example.com"
    assert egress.normalize(" *.pypi.org ") == "*.pypi.org"
    for refused in ("*", "*.", "", ".", "a b.org", "under_score.org", "a..b", "x" * 254):
        assert egress.normalize(refused) is None, refused
    assert egress.normalize("x" * 253) == "x" * 253


@given(DOMAIN, st.booleans(), st.booleans())
def test_case_and_the_trailing_dot_do_not_make_another_domain(domain: str, upper: bool, dot: bool) -> None:
    assert egress.normalize(spelled(domain, upper, dot)) == domain
    assert egress.listed_form(spelled(domain, upper, True)) == domain


@given(ROW_SPECS, st.randoms())
def test_wanted_is_the_union_of_the_active_rows_in_any_order(specs: Spec, rnd: random.Random) -> None:
    rows = rows_of(specs)
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert egress.wanted(rows) == egress.Wanted(frozenset(canonical(specs)))
    assert egress.wanted(shuffled) == egress.wanted(rows)


@given(ROW_SPECS, st.data())
def test_offboarding_removes_exactly_the_domains_no_other_active_row_has(
        specs: Spec, data: st.DataObject) -> None:
    rows = rows_of(specs)
    active = [i for i, (status, _) in enumerate(specs) if status == ACTIVE]
    if not active:
        return
    index = data.draw(st.sampled_from(active))
    after = egress.wanted(egress.rows_after(rows, [plan_offboard(rows[index].repo, rows[index], NOW)]))
    assert after.domains == canonical(specs, skip=index)  # a domain another active row has stays


def apply(listed: list[str], update: egress.Update) -> list[str]:
    """What Route 53 holds after ``update`` (it stores each domain with a trailing dot)."""
    stored = [d if d.endswith(".") else d + "." for d in update.domains]
    if update.operation == "REPLACE":
        return stored
    if update.operation == "ADD":
        return listed + [d for d in stored if d not in listed]
    assert update.operation == "REMOVE"
    return [d for d in listed if d not in stored]


@given(st.lists(st.tuples(DOMAIN, st.booleans()), max_size=8), st.frozensets(DOMAIN, max_size=8),
       st.integers(1, 10))
def test_the_updates_make_the_list_exactly_the_union(listed_spec: list[tuple[str, bool]],
                                                     want: frozenset[str], limit: int) -> None:
    listed = [spelled(domain, upper, True) for domain, upper in listed_spec]
    held = list(listed)
    steps = egress.updates(listed, want, limit)
    for step in steps:
        assert 1 <= len(step.domains) <= limit  # Route 53: at least one domain, at most 1000, a request
        before = {egress.listed_form(d) for d in held}
        held = apply(held, step)
        assert want & before <= {egress.listed_form(d) for d in held}  # never short of a domain it had
    assert {egress.listed_form(d) for d in held} == want
    assert egress.updates(held, want, limit) == ()  # a second run sends nothing
    if not steps:
        assert {egress.listed_form(d) for d in listed} == want
    elif want and len(want) <= limit:
        assert steps == (egress.Update("REPLACE", tuple(sorted(want))),)


def test_emptying_the_list_removes_what_it_holds_as_read() -> None:
    assert egress.updates(["PyPI.org.", "a.example.com."], frozenset()) == (egress.Update(
        "REMOVE", ("PyPI.org.", "a.example.com.")),)
    assert egress.updates([], frozenset()) == ()
    assert egress.updates(["pypi.org."], frozenset({"pypi.org"})) == ()


def test_a_union_over_1000_domains_is_added_then_trimmed_in_requests_of_1000() -> None:
    want = frozenset(f"h{i:04d}.example.com" for i in range(2500))
    listed = [f"h{i:04d}.example.com." for i in range(2000, 3200)]
    steps = egress.updates(listed, want)
    assert [(s.operation, len(s.domains)) for s in steps] == [("ADD", 1000), ("ADD", 1000), ("REMOVE", 700)]


def test_entries_the_blueprint_refuses_are_left_out_and_reported() -> None:
    odd = replace(row("octo/by-hand", ()), fields=MappingProxyType({}),
                  extra=MappingProxyType({"egress_allowlist": {"SS": ["Files.Example.net", "*", "a b"]}}))
    found = egress.wanted([odd, row("octo/app", ("pypi.org",)), row("octo/old", ("old.org",), REMOVED)])
    assert found.domains == {"files.example.net", "pypi.org"}
    assert found.skipped == (egress.Skipped("octo/by-hand", "*"), egress.Skipped("octo/by-hand", "a b"))


def test_rows_after_adds_creations_and_drops_offboarded_rows_from_the_union() -> None:
    kept, gone = row("octo/kept", ("a.org",)), row("octo/gone", ("b.org",))
    created = plan_onboard("octo/new", None, {"egress_allowlist": ("c.org",)}, NOW)
    after = egress.rows_after([kept, gone], [created, plan_offboard("octo/gone", gone, NOW)])
    assert egress.wanted(after).domains == {"a.org", "c.org"}


def test_a_change_knows_what_it_added_and_removed() -> None:
    change = egress.EgressChange("rslvr-fdl-1", frozenset({"a.org", "b.org"}), frozenset({"b.org", "c.org"}))
    assert (change.added, change.removed, change.changed) == (("c.org",), ("a.org",), True)
