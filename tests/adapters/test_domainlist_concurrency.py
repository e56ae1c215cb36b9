"""Concurrent writers converge: threads each write a row, then bring the domain list up to date at once.

Real services: moto (DynamoDB) and the emulator's Route 53 Resolver, where a concurrent update is a
ConflictException and each update stays UPDATING for 0.5 s, as on AWS.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import boto3

from abca_deploy.aws.route53resolver import DomainLists
from abca_deploy.repos import domainlist
from abca_deploy.repos.table import RepoTable

if TYPE_CHECKING:
    from tests.support.repo_stack import IntegratedStack

WRITERS = 6


def test_concurrent_onboarding_and_offboarding_converge_on_the_union(
        integrated_stack: IntegratedStack) -> None:
    stack = integrated_stack.stack
    ddb = boto3.client("dynamodb")
    stack.ddb.put_item(TableName=stack.table, Item={
        "repo": {"S": "octo/leaving"}, "status": {"S": "active"},
        "egress_allowlist": {"L": [{"S": "leaving.example.com"}, {"S": "shared.example.com"}]}})

    def writer(index: int) -> Any:
        if index == 0:  # offboards octo/leaving while the others onboard
            ddb.update_item(TableName=stack.table, Key={"repo": {"S": "octo/leaving"}},
                            UpdateExpression="SET #s = :r", ExpressionAttributeNames={"#s": "status"},
                            ExpressionAttributeValues={":r": {"S": "removed"}})
        else:
            ddb.put_item(TableName=stack.table, Item={
                "repo": {"S": f"octo/r{index}"}, "status": {"S": "active"},
                "egress_allowlist": {"L": [{"S": f"r{index}.example.com"}, {"S": "shared.example.com"}]}})
        lists = DomainLists(boto3.client("route53resolver"))
        return domainlist.maintain(domainlist.DomainList(integrated_stack.list_id, lists),
                                   RepoTable(boto3.client("dynamodb"), stack.table))

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        results = list(pool.map(writer, range(WRITERS)))
    expected = sorted([f"r{i}.example.com." for i in range(1, WRITERS)] + ["shared.example.com."])
    assert integrated_stack.domains() == expected
    assert "leaving.example.com" not in results[0].after
    for index, result in enumerate(results[1:], start=1):  # each verified a list holding its own domain
        assert f"r{index}.example.com" in result.after


class SignallingTable(RepoTable):
    """The real table adapter; sets ``scanned`` after its first scan."""

    def __init__(self, client: Any, name: str, scanned: threading.Event) -> None:
        super().__init__(client, name)
        self.scanned = scanned

    def active_egress(self) -> list[Any]:
        rows = super().active_egress()
        self.scanned.set()
        return rows


class HeldLists(DomainLists):
    """The real list adapter; its first read of the domains waits for ``release``."""

    def __init__(self, client: Any, release: threading.Event) -> None:
        super().__init__(client)
        self.release = release

    def domains(self, list_id: str) -> tuple[str, ...]:
        assert self.release.wait(30)
        return super().domains(list_id)


def test_a_writer_whose_union_went_stale_corrects_its_own_replace(integrated_stack: IntegratedStack) -> None:
    """A scans before B's row exists, but A's REPLACE lands after B's: A's verification round re-applies."""
    stack, list_id = integrated_stack.stack, integrated_stack.list_id
    a_scanned, b_done = threading.Event(), threading.Event()

    def onboard(repo: str, domain: str) -> None:
        stack.ddb.put_item(TableName=stack.table, Item={
            "repo": {"S": repo}, "status": {"S": "active"}, "egress_allowlist": {"L": [{"S": domain}]}})

    def writer_a() -> Any:
        onboard("octo/a", "a.example.com")
        table = SignallingTable(boto3.client("dynamodb"), stack.table, a_scanned)
        lists = HeldLists(boto3.client("route53resolver"), b_done)
        return domainlist.maintain(domainlist.DomainList(list_id, lists), table)

    def writer_b() -> Any:
        assert a_scanned.wait(30)
        onboard("octo/b", "b.example.com")
        lists = DomainLists(boto3.client("route53resolver"))
        try:
            return domainlist.maintain(domainlist.DomainList(list_id, lists),
                                       RepoTable(boto3.client("dynamodb"), stack.table))
        finally:
            b_done.set()

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(writer_a), pool.submit(writer_b)
        first, second = a.result(timeout=60), b.result(timeout=60)
    assert second.after == {"a.example.com", "b.example.com"}
    assert first.updates == 2  # the stale REPLACE of {a.example.com}, then the corrected union
    assert integrated_stack.domains() == ["a.example.com.", "b.example.com."]
