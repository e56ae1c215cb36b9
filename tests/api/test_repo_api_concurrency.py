"""Optimistic concurrency over HTTP: concurrent PATCHes of different fields all land; If-Match refuses a
stale version with 412 and writes nothing; the ETag covers every writer (the CLI too).

DynamoDB applies each conditional write atomically; moto's threaded server does not (it checks, then
writes, without a lock), so these tests use ``atomic_dynamodb``, which serializes moto's DynamoDB handler to
stand in for the real service's guarantee (as the repo-table concurrency tests do).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.support.repo_api import Answer, RepoApi

TEN: dict[str, Any] = {
    "max_turns": 42,
    "max_budget_usd": 7.5,
    "poll_interval_ms": 6000,
    "approval_gate_cap": 9,
    "build_command": "make build",
    "lint_command": "make lint",
    "system_prompt_overrides": "be brief",
    "compute_type": "ecs",
    "egress_allowlist": ["pypi.org"],
    "skills": ["registry://skill/acme/review@1.0.0"],
}


def _together(jobs: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = jobs[index]()
        except BaseException as exc:  # surfaced below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.usefixtures("atomic_dynamodb")
def test_ten_concurrent_patches_of_different_fields_all_land(repo_api: RepoApi) -> None:
    repo_api.onboard("octo/app")
    barrier = threading.Barrier(len(TEN))

    def patch(name: str, value: Any) -> Callable[[], Answer]:
        def run() -> Answer:
            barrier.wait()
            return repo_api.call("PATCH", "repos/octo%2Fapp", {name: value})

        return run

    answers = _together([patch(n, v) for n, v in TEN.items()])
    assert [a.status for a in answers] == [200] * len(TEN)
    row = repo_api.call("GET", "repos/octo%2Fapp").data
    assert {name: row[name] for name in TEN} == TEN


@pytest.mark.usefixtures("atomic_dynamodb")
def test_if_match_clients_that_retry_on_412_lose_nothing(repo_api: RepoApi) -> None:
    repo_api.onboard("octo/app")
    barrier = threading.Barrier(len(TEN))
    refusals: list[str] = []

    def client(name: str, value: Any) -> Callable[[], Answer]:
        def run() -> Answer:
            first = True
            while True:
                etag = repo_api.call("GET", "repos/octo%2Fapp").header("ETag")
                assert etag
                if first:
                    barrier.wait()  # all ten hold the same version before anyone writes
                    first = False
                answer = repo_api.call("PATCH", "repos/octo%2Fapp", {name: value}, headers={"If-Match": etag})
                if answer.status != 412:
                    return answer
                refusals.append(name)

        return run

    answers = _together([client(n, v) for n, v in TEN.items()])
    assert [a.status for a in answers] == [200] * len(TEN)
    assert len(refusals) >= len(TEN) - 1  # all but the first writer of the shared version were refused
    row = repo_api.call("GET", "repos/octo%2Fapp").data
    assert {name: row[name] for name in TEN} == TEN


def test_a_stale_etag_is_refused_and_nothing_is_written(repo_api: RepoApi) -> None:
    created = repo_api.onboard("octo/app", max_turns=5)
    stale = created.header("ETag")
    assert stale
    assert (
        repo_api.call("PATCH", "repos/octo%2Fapp", {"max_turns": 6}, headers={"If-Match": stale}).status
        == 200
    )
    before = repo_api.stack.item("octo/app")
    for method, body in (("PATCH", {"max_turns": 7}), ("DELETE", None)):
        answer = repo_api.call(method, "repos/octo%2Fapp", body, headers={"If-Match": stale})
        assert (answer.status, answer.error["code"]) == (412, "PRECONDITION_FAILED")
        assert "GET it again" in answer.error["message"]
    assert repo_api.stack.item("octo/app") == before
    current = repo_api.call("GET", "repos/octo%2Fapp").header("ETag")
    assert current
    any_version = repo_api.call("PATCH", "repos/octo%2Fapp", {"max_turns": 8}, headers={"If-Match": "*"})
    assert any_version.status == 200
    listed = repo_api.call(
        "DELETE", "repos/octo%2Fapp", headers={"If-Match": f'"nope", {any_version.header("ETag")}'}
    )
    assert listed.status == 200


def test_the_etag_changes_when_anyone_writes_the_row(repo_api: RepoApi) -> None:
    etag = repo_api.onboard("octo/app").header("ETag")
    repo_api.stack.ddb.update_item(  # another writer (the CLI, the Blueprint, a person) adds an attribute
        TableName=repo_api.stack.table,
        Key={"repo": {"S": "octo/app"}},
        UpdateExpression="SET owner_team = :t",
        ExpressionAttributeValues={":t": {"S": "platform"}},
    )
    answer = repo_api.call("PATCH", "repos/octo%2Fapp", {"max_turns": 3}, headers={"If-Match": str(etag)})
    assert answer.status == 412
    fresh = repo_api.call("GET", "repos/octo%2Fapp")
    assert fresh.data["owner_team"] == "platform"
    assert fresh.header("ETag") != etag
    patched = repo_api.call(
        "PATCH", "repos/octo%2Fapp", {"max_turns": 3}, headers={"If-Match": str(fresh.header("ETag"))}
    )
    assert patched.status == 200
    assert patched.data["repo"]["owner_team"] == "platform"  # kept, not overwritten


def test_a_conditional_write_that_loses_the_race_is_a_412(
    repo_api: RepoApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from abca_deploy.repos.table import RepoTable

    etag = repo_api.onboard("octo/app", max_turns=5).header("ETag")
    original = RepoTable.write
    interfered: list[bool] = []

    def write_after_someone_else(self: RepoTable, request: Any) -> Any:
        if not interfered:  # between this request's read (ETag matched) and its write, another writer wins
            interfered.append(True)
            self._client.update_item(
                TableName=self.name,
                Key={"repo": {"S": "octo/app"}},
                UpdateExpression="SET lint_command = :l",
                ExpressionAttributeValues={":l": {"S": "ruff check"}},
            )
        return original(self, request)

    monkeypatch.setattr(RepoTable, "write", write_after_someone_else)
    answer = repo_api.call("PATCH", "repos/octo%2Fapp", {"max_turns": 6}, headers={"If-Match": str(etag)})
    assert (answer.status, answer.error["code"]) == (412, "PRECONDITION_FAILED")
    item = repo_api.stack.item("octo/app")
    assert item is not None
    assert (item["max_turns"], item["lint_command"]) == ({"N": "5"}, {"S": "ruff check"})
