"""The SSM adapter and the lease against moto's Parameter Store: create-only puts, listings, history, Date."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from abca_deploy.aws.ssm import Parameters
from abca_deploy.lease import Lease, Owner
from abca_deploy.runtime.tested import Tested, TestedStore, record_name

PATH = "/abca-deploy/runtime/rt_a-AbCdEfGh12/lease"


@pytest.fixture
def parameters(moto_env: str) -> Parameters:
    return Parameters(boto3.client("ssm"))


def test_create_only_put_is_a_compare_and_set(parameters: Parameters) -> None:
    assert parameters.create(f"{PATH}/1", "a") is True
    assert parameters.create(f"{PATH}/1", "b") is False
    assert parameters.get(f"{PATH}/1") == "a"


def test_children_list_one_level_with_aws_times(parameters: Parameters) -> None:
    parameters.create(f"{PATH}/1", "a")
    parameters.create(f"{PATH}/2", "b")
    parameters.create(f"{PATH}/2/deeper", "c")
    listing = parameters.children(PATH)
    assert sorted(p.name for p in listing.parameters) == [f"{PATH}/1", f"{PATH}/2"]
    for item in listing.parameters:
        assert abs(listing.server_time - item.modified) < timedelta(seconds=5)
    assert abs(listing.server_time - datetime.now(UTC)) < timedelta(seconds=5)


def test_overwrite_stamps_a_new_last_modified_and_history_keeps_the_versions(parameters: Parameters) -> None:
    parameters.put("/abca/x", "one")
    first = parameters.read("/abca/x")
    time.sleep(0.05)
    parameters.put("/abca/x", "two")
    second = parameters.read("/abca/x")
    assert first is not None
    assert second is not None
    assert (second.version, second.value) == (2, "two")
    assert second.modified > first.modified
    assert [v.value for v in parameters.history("/abca/x")] == ["two", "one"]
    assert parameters.history("/abca/missing") == []


def test_delete_says_whether_there_was_something(parameters: Parameters) -> None:
    parameters.create("/abca/y", "v")
    assert parameters.delete("/abca/y") is True
    assert parameters.delete("/abca/y") is False
    assert parameters.read("/abca/y") is None


def test_tested_records_round_trip_newest_first(parameters: Parameters) -> None:
    store = TestedStore(parameters)
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/a@sha256:" + "1" * 64
    store.record("rt", Tested("1", image, "2026-01-01T00:00:00Z", "x", "baseline"))
    store.record("rt", Tested("2", image.replace("1" * 64, "2" * 64), "2026-01-02T00:00:00Z", "y"))
    parameters.put(record_name("rt"), "not a record")
    assert [(r.version, r.source) for r in store.history("rt")] == [("2", "smoke-test"), ("1", "baseline")]


def test_concurrent_holders_never_overlap(parameters: Parameters) -> None:
    """Six threads, each with its own client, take turns on one lease; no two hold it at once."""
    intervals: list[tuple[float, float, int]] = []
    errors: list[BaseException] = []

    def worker(pid: int) -> None:
        try:
            lease = Lease(Parameters(boto3.client("ssm")), PATH, Owner("local", "h", pid), what="runtime rt",
                          ttl=30)
            lease.acquire(60, lambda decision: None)
            start = time.monotonic()
            time.sleep(0.1)
            intervals.append((start, time.monotonic(), lease.number))
            lease.release()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(pid,)) for pid in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(intervals) == 6
    ordered = sorted(intervals)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ordered))
    assert [number for _, _, number in ordered] == sorted({n for _, _, n in ordered})  # numbers only grow
