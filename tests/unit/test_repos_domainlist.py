"""``domainlist.maintain``: the loop that brings the list up to date converges when writers interleave.

Hand-written fakes of the table and the domain list let each test script the exact interleaving.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

import pytest

from abca_deploy.aws.route53resolver import DomainListBusy, DomainListState
from abca_deploy.errors import OperationFailed
from abca_deploy.repos import domainlist
from abca_deploy.repos.schema import RepoRow

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

LIST_ID = "rslvr-fdl-0123456789abcdef0"


class FakeTable:
    """The repo table: repo -> egress domains of the active rows."""

    def __init__(self, rows: dict[str, tuple[str, ...]]) -> None:
        self.rows = rows
        self.scans = 0

    def active_egress(self) -> list[RepoRow]:
        self.scans += 1
        return [RepoRow(repo, fields=MappingProxyType({"egress_allowlist": domains}))
                for repo, domains in self.rows.items()]


class FakeLists:
    """One domain list as Route 53 keeps it (trailing dots); ``on_read`` runs before the next read of it."""

    def __init__(self, domains: Sequence[str] = ()) -> None:
        self.stored = [f"{d}." for d in domains]
        self.sent: list[tuple[str, tuple[str, ...]]] = []
        self.busy = 0
        self.on_read: Callable[[], None] | None = None

    def wait(self, list_id: str) -> DomainListState:
        return DomainListState(list_id, "runtime-egress", "COMPLETE", "", len(self.stored))

    def domains(self, list_id: str) -> tuple[str, ...]:
        if self.on_read is not None:
            hook, self.on_read = self.on_read, None
            hook()
        return tuple(self.stored)

    def update(self, list_id: str, operation: str, domains: Sequence[str]) -> str:
        if self.busy:
            self.busy -= 1
            raise DomainListBusy(list_id)
        self.sent.append((operation, tuple(domains)))
        dotted = [d if d.endswith(".") else f"{d}." for d in domains]
        self.stored = dotted if operation == "REPLACE" else [d for d in self.stored if d not in dotted]
        return "UPDATING"


def found(lists: FakeLists) -> domainlist.DomainList:
    return domainlist.DomainList(LIST_ID, cast("Any", lists))


def maintain(lists: FakeLists, table: FakeTable, pauses: list[int] | None = None,
             rounds: int = domainlist.ROUNDS) -> Any:
    record = pauses if pauses is not None else []
    return domainlist.maintain(found(lists), cast("Any", table), rounds=rounds, pause=record.append)


def test_a_stale_replace_is_corrected_by_its_own_verification() -> None:
    table, lists = FakeTable({"octo/a": ("a.org",)}), FakeLists()

    def other_writer_lands() -> None:
        # Between this command's scan and its read of the list, octo/b is onboarded and its command REPLACEs.
        table.rows["octo/b"] = ("b.org",)
        lists.stored = ["a.org.", "b.org."]

    lists.on_read = other_writer_lands
    done = maintain(lists, table)
    assert sorted(lists.stored) == ["a.org.", "b.org."]
    assert lists.sent == [("REPLACE", ("a.org",)), ("REPLACE", ("a.org", "b.org"))]
    assert (done.before, done.after, done.updates) == (frozenset({"a.org", "b.org"}),
                                                        frozenset({"a.org", "b.org"}), 2)


def test_an_update_in_flight_is_waited_out_and_the_union_recomputed() -> None:
    table, lists, pauses = FakeTable({"octo/a": ("a.org",)}), FakeLists(["old.org"]), []
    lists.busy = 2
    done = maintain(lists, table, pauses)
    assert pauses == [0, 1]
    assert lists.stored == ["a.org."]
    assert (done.added, done.removed, table.scans) == (("a.org",), ("old.org",), 4)


def test_an_up_to_date_list_gets_no_update() -> None:
    table, lists = FakeTable({"octo/a": ("A.org.", "b.org")}), FakeLists(["b.org", "a.org"])
    done = maintain(lists, table)
    assert (lists.sent, done.changed, done.updates) == ([], False, 0)


def test_a_list_that_never_settles_gives_up_with_a_clear_error() -> None:
    lists = FakeLists()
    lists.busy = 99
    with pytest.raises(OperationFailed, match=f"domain list {LIST_ID} kept changing .*3 rounds"):
        maintain(lists, FakeTable({"octo/a": ("a.org",)}), rounds=3)


def test_a_failure_after_the_write_is_recorded_not_raised() -> None:
    lists = FakeLists()
    lists.busy = 99
    change = domainlist.after_write(found(lists), cast("Any", FakeTable({"octo/a": ("a.org",)})))
    assert change.error is not None
    assert "kept changing" in change.error
    with pytest.raises(OperationFailed, match="The repo table was written, but DNS Firewall domain list"):
        domainlist.raise_if_failed(change)
    domainlist.raise_if_failed(None)
