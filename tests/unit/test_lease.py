"""The lease: the pure decision, and the create-only protocol on a fake Parameter Store (AWS's semantics)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.fake_ssm import FakeParameters

from abca_deploy.lease import Decision, Generation, Lease, LeaseBusy, Owner, decide, parse

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
ME = Owner("local", "me", 100)
PATH = "/abca-deploy/runtime/rt-AbCdEfGh12/lease"

generations = st.lists(
    st.builds(lambda n, released, age, ttl, pid: Generation(
        n, f"{PATH}/{n}", Owner("local", "other", pid), released, ttl, NOW - timedelta(seconds=age)),
              st.integers(1, 50), st.booleans(), st.floats(0, 500), st.floats(1, 300), st.integers(1, 99)),
    max_size=5, unique_by=lambda g: g.number)


@given(generations)
def test_only_the_highest_generation_decides(found: list[Generation]) -> None:
    decision = decide(found, NOW, ME)
    if not found:
        assert (decision.action, decision.number) == ("take", 1)
        return
    top = max(found, key=lambda g: g.number)
    age = (NOW - top.modified).total_seconds()
    free = top.released or age > top.ttl
    assert decision.action == ("take" if free else "wait")
    assert decision.holder == top
    if free:
        assert decision.number == top.number + 1  # never reuses a number: a stale taker cannot win
        assert set(decision.stale) == {g.name for g in found}
    else:
        assert decision.number == top.number
        assert decision.expires_in == pytest.approx(top.ttl - age)


def test_a_holder_from_an_earlier_step_of_the_same_job_is_taken_over() -> None:
    job = "123/1/publish/runner-1"
    earlier = Generation(4, f"{PATH}/4", Owner("run", "h", 10, job), False, 90, NOW)
    assert decide([earlier], NOW, Owner("run", "h", 11, job)).action == "take"
    assert decide([earlier], NOW, Owner("run", "h", 11, "124/1/publish/runner-1")).action == "wait"
    assert decide([earlier], NOW, Owner("run", "h", 10, "")).action == "wait"


def lease(store: FakeParameters, owner: Owner = ME, ttl: float = 60) -> Lease:
    return Lease(store, PATH, owner, what="runtime rt", ttl=ttl, sleep=store.advance,
                 clock=lambda: store.offset)


def test_acquire_release_and_the_next_generation() -> None:
    store = FakeParameters()
    first = lease(store)
    assert first.acquire(10, lambda d: None).reason == "free"
    assert first.number == 1
    first.release()
    second = lease(store, Owner("local", "other", 2))
    decision = second.acquire(10, lambda d: None)
    assert (decision.reason, second.number) == ("released", 2)
    assert sorted(store.versions) == [f"{PATH}/2"]  # the released generation below was removed
    second.release()


def test_a_second_taker_waits_and_fails_naming_the_holder() -> None:
    store = FakeParameters()
    holder = lease(store, Owner("https://github.com/o/r/actions/runs/9 (attempt 1, job publish)", "rn", 7))
    holder.acquire(10, lambda d: None)
    waits: list[Decision] = []
    with pytest.raises(LeaseBusy) as caught:
        lease(store).acquire(20, waits.append)
    assert "actions/runs/9" in caught.value.message
    assert "on rn, pid 7" in caught.value.message
    assert len(waits) == 1
    holder.release()


def test_an_expired_holder_is_taken_over_after_its_ttl_by_the_server_clock() -> None:
    store = FakeParameters()
    crashed = lease(store, Owner("local", "dead", 9), ttl=30)
    crashed.acquire(10, lambda d: None)
    crashed._stop.set()  # SIGKILL: no more heartbeats, no release
    taker = lease(store)
    decision = taker.acquire(120, lambda d: None)
    assert decision.reason == "expired"
    assert store.offset > 30  # it waited for the ttl, measured on AWS's clock
    assert taker.number == 2
    taker.release()


def test_two_takers_of_one_expired_generation_cannot_both_win() -> None:
    store = FakeParameters()
    store.put(f"{PATH}/5", json.dumps({"owner": {"run": "local", "host": "x", "pid": 1}, "ttl": 1}))
    store.advance(10)
    listing = store.children(PATH)
    found = [g for item in listing.parameters if (g := parse(item))]
    a, b = lease(store, Owner("local", "a", 1)), lease(store, Owner("local", "b", 2))
    decision_a = decide(found, listing.server_time, a.owner)
    decision_b = decide(found, listing.server_time, b.owner)
    assert decision_a.number == decision_b.number == 6
    assert a._take(decision_a) is True
    assert b._take(decision_b) is False
    assert b.number == 0
    a.release()


def test_a_taker_with_a_stale_listing_loses_and_removes_its_own_generation() -> None:
    store = FakeParameters()
    old = store.children(PATH)  # empty: "take 1"
    current = lease(store, Owner("local", "a", 1))
    current.acquire(10, lambda d: None)
    current.release()
    newer = lease(store, Owner("local", "b", 2))
    newer.acquire(10, lambda d: None)  # generation 2; generation 1 was removed
    stale = lease(store, Owner("local", "c", 3))
    assert stale._take(decide([], old.server_time, stale.owner)) is False  # created 1, saw 2, deleted 1
    assert sorted(store.versions) == [f"{PATH}/2"]
    newer.release()


def test_a_heartbeat_that_finds_a_newer_generation_marks_the_lease_lost() -> None:
    store = FakeParameters()
    mine = lease(store, ttl=2)
    mine.acquire(10, lambda d: None)
    store.put(f"{PATH}/{mine.number + 1}", json.dumps({"owner": {"run": "local", "host": "x", "pid": 5}}))
    assert mine.lost.wait(5)
    with pytest.raises(Exception, match="was taken over"):
        mine.check()
    mine.release()
    assert json.loads(store.versions[f"{PATH}/1"][-1].value)["released"] is False  # lost: left untouched


def test_a_release_that_cannot_write_says_so_instead_of_raising() -> None:
    store = FakeParameters()
    mine = lease(store)
    mine.acquire(10, lambda d: None)

    def denied(name: str, value: str) -> None:
        msg = "AccessDenied"
        raise RuntimeError(msg)

    store.put = denied  # type: ignore[method-assign]
    problem = mine.release()
    assert problem is not None
    assert f"{PATH}/1" in problem
    assert "expires 60s after its last heartbeat" in problem
