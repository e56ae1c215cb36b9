"""Paging through 250 repositories; throttling (429); a misconfigured platform (500, details in the log)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from abca_deploy.repos.plan import plan_onboard
from abca_deploy.repos.schema import item_from_row

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.support.repo_api import RepoApi

NOW = datetime(2026, 5, 1, tzinfo=UTC)
REPOS = [f"org{i % 7}/repo-{i:03d}" for i in range(250)]


def _seed(api: RepoApi) -> None:
    requests = []
    for index, repo in enumerate(REPOS):
        row = plan_onboard(repo, None, {"max_turns": index + 1}, NOW).target
        assert row is not None
        requests.append({"PutRequest": {"Item": item_from_row(row)}})
    for start in range(0, len(requests), 25):
        api.stack.ddb.batch_write_item(RequestItems={api.stack.table: requests[start : start + 25]})


@pytest.mark.parametrize("limit", [100, 7])
def test_paging_through_250_repositories_sees_each_exactly_once(repo_api: RepoApi, limit: int) -> None:
    _seed(repo_api)
    seen: list[str] = []
    path, pages = f"repos?limit={limit}", 0
    while True:
        page = repo_api.call("GET", path, user="participant")
        assert page.status == 200
        assert len(page.data) <= limit
        seen += [row["repo"] for row in page.data]
        pages += 1
        token = page.body["pagination"]["next_token"]
        assert page.body["pagination"]["has_more"] is (token is not None)
        if token is None:
            break
        path = f"repos?limit={limit}&next_token={token}"
    assert sorted(seen) == sorted(REPOS)
    assert len(seen) == len(set(seen))
    assert pages >= -(-len(REPOS) // limit)


def test_paging_with_a_status_filter(repo_api: RepoApi) -> None:
    _seed(repo_api)
    for repo in REPOS[:30]:
        assert repo_api.call("DELETE", f"repos/{repo.replace('/', '%2F')}").status == 200
    removed: list[str] = []
    path = "repos?limit=50&status=removed"
    while path:
        page = repo_api.call("GET", path)
        removed += [row["repo"] for row in page.data]
        assert all(row["status"] == "removed" for row in page.data)
        token = page.body["pagination"]["next_token"]
        path = f"repos?limit=50&status=removed&next_token={token}" if token else ""
    assert sorted(removed) == sorted(REPOS[:30])


def test_the_stage_throttles_with_429(api_server: Callable[..., RepoApi]) -> None:
    api = api_server(rate=0.5, burst=2)
    statuses = [api.call("GET", "repos").status for _ in range(4)]
    assert statuses[:2] == [200, 200]
    assert 429 in statuses[2:]
    throttled = next(a for a in api.answers if a.status == 429)
    assert throttled.error["code"] == "RATE_LIMIT_EXCEEDED"
    assert throttled.header("Retry-After") == "1"


def test_a_misconfigured_platform_answers_500_without_details(api_server: Callable[..., RepoApi]) -> None:
    api = api_server(stack_name="no-such-stack")
    answer = api.call("GET", "repos/octo%2Fapp")
    assert answer.status == 500
    assert answer.error["message"] == "Internal server error."
    assert "Traceback" not in answer.text
    assert "no-such-stack" not in answer.text
    logged = [line for line in api.logs.lines if "operation-failed" in line]
    assert logged
    assert "no-such-stack" in logged[0]
    assert all("Traceback" not in line for line in api.logs.lines)
