"""The repo-table adapter on the moto server: exact types, preserved attributes, optimistic concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from abca_deploy.errors import UserError
from abca_deploy.repos.apply import apply_many, apply_one
from abca_deploy.repos.plan import plan_declared, plan_offboard, plan_onboard, plan_update
from abca_deploy.repos.table import RepoTable, WriteConflict

if TYPE_CHECKING:
    from tests.support.repo_stack import RepoStack

    from abca_deploy.repos.plan import Change
    from abca_deploy.repos.schema import RepoRow, Value
    from abca_deploy.repos.writes import WriteRequest

NOW = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:abca/github-token/octo/app-AbC123"
EVERY_FIELD: dict[str, Value] = {
    "compute_type": "ecs",
    "runtime_arn": "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/r-AbCdEfGhIj",
    "model_id": "us.anthropic.claude-opus-4-8", "max_turns": 50, "max_budget_usd": Decimal("2.5"),
    "system_prompt_overrides": "Be brief.", "github_token_secret_arn": SECRET, "poll_interval_ms": 30000,
    "build_command": "make", "lint_command": "make lint", "egress_allowlist": ("pypi.org", "*.example.com"),
    "cedar_policies": ("permit(principal, action, resource);",), "approval_gate_cap": 10,
    "mcp_servers": ("registry://mcp_server/acme/search@^1.2.0",),
    "cedar_policy_modules": ("registry://cedar_policy_module/acme/base@1.0.0",),
    "skills": ("registry://skill/acme/review@~2.0.1",),
}


def table(stack: RepoStack) -> RepoTable:
    return RepoTable(boto3.client("dynamodb"), stack.table)


def test_every_field_round_trips_with_exact_dynamodb_types(repo_stack: RepoStack) -> None:
    repos = table(repo_stack)
    apply_one(repos, plan_onboard("octo/app", None, EVERY_FIELD, NOW), lambda row: plan_onboard(
        "octo/app", row, EVERY_FIELD, NOW))
    assert repo_stack.item("octo/app") == {
        "repo": {"S": "octo/app"}, "status": {"S": "active"},
        "onboarded_at": {"S": "2026-06-22T10:00:00.000Z"}, "updated_at": {"S": "2026-06-22T10:00:00.000Z"},
        "compute_type": {"S": "ecs"},
        "runtime_arn": {"S": "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/r-AbCdEfGhIj"},
        "model_id": {"S": "us.anthropic.claude-opus-4-8"}, "max_turns": {"N": "50"},
        "max_budget_usd": {"N": "2.5"},
        "system_prompt_overrides": {"S": "Be brief."}, "github_token_secret_arn": {"S": SECRET},
        "poll_interval_ms": {"N": "30000"}, "build_command": {"S": "make"},
        "lint_command": {"S": "make lint"},
        "egress_allowlist": {"L": [{"S": "pypi.org"}, {"S": "*.example.com"}]},
        "cedar_policies": {"L": [{"S": "permit(principal, action, resource);"}]},
        "approval_gate_cap": {"N": "10"},
        "mcp_servers": {"L": [{"S": "registry://mcp_server/acme/search@^1.2.0"}]},
        "cedar_policy_modules": {"L": [{"S": "registry://cedar_policy_module/acme/base@1.0.0"}]},
        "skills": {"L": [{"S": "registry://skill/acme/review@~2.0.1"}]},
    }
    back = repos.get("octo/app")
    assert back is not None
    assert dict(back.fields) == EVERY_FIELD


def test_offboard_then_onboard_keeps_onboarded_at_and_drops_ttl(repo_stack: RepoStack) -> None:
    repos = table(repo_stack)
    apply_one(repos, plan_onboard("octo/app", None, {"max_turns": 5}, NOW), lambda r: plan_onboard(
        "octo/app", r, {}, NOW))
    later = datetime(2026, 7, 1, tzinfo=UTC)
    apply_one(repos, plan_offboard("octo/app", repos.get("octo/app"), later), lambda r: plan_offboard(
        "octo/app", r, later))
    removed = repo_stack.item("octo/app")
    assert removed is not None
    assert removed["status"] == {"S": "removed"}
    assert removed["ttl"] == {"N": str(int(later.timestamp()) + 30 * 86400)}
    again = datetime(2026, 7, 2, tzinfo=UTC)
    apply_one(repos, plan_onboard("octo/app", repos.get("octo/app"), {}, again), lambda r: plan_onboard(
        "octo/app", r, {}, again))
    back = repo_stack.item("octo/app")
    assert back is not None
    assert back["onboarded_at"] == {"S": "2026-06-22T10:00:00.000Z"}
    assert back["updated_at"] == {"S": "2026-07-02T00:00:00.000Z"}
    assert back["status"] == {"S": "active"}
    assert "ttl" not in back
    assert back["max_turns"] == {"N": "5"}


def test_update_preserves_attributes_written_by_others(repo_stack: RepoStack) -> None:
    repo_stack.ddb.put_item(TableName=repo_stack.table, Item={
        "repo": {"S": "octo/app"}, "status": {"S": "active"}, "build_command": {"S": "make"},
        "mcp_servers": {"L": [{"S": "registry://mcp_server/a/b@1.0.0"}]}, "owner_team": {"S": "platform"},
        "labels": {"SS": ["x", "y"]}})
    repos = table(repo_stack)

    def plan(row: RepoRow | None) -> Change:
        return plan_update("octo/app", row, {"max_turns": 9}, (), NOW)

    apply_one(repos, plan(repos.get("octo/app")), plan)
    item = repo_stack.item("octo/app")
    assert item is not None
    assert item["owner_team"] == {"S": "platform"}
    assert item["labels"] == {"SS": ["x", "y"]}
    assert item["build_command"] == {"S": "make"}
    assert item["mcp_servers"] == {"L": [{"S": "registry://mcp_server/a/b@1.0.0"}]}
    assert item["max_turns"] == {"N": "9"}


TEN: dict[str, Value] = {
    "compute_type": "ecs", "runtime_arn": EVERY_FIELD["runtime_arn"],
    "model_id": "eu.anthropic.claude-opus-5", "max_turns": 42, "max_budget_usd": Decimal("7.25"),
    "system_prompt_overrides": "hi", "poll_interval_ms": 6000,
    "build_command": "make build", "lint_command": "make lint", "approval_gate_cap": 3,
}


def run_threads(targets: list[Any]) -> list[BaseException]:
    errors: list[BaseException] = []

    def guard(fn: Any) -> None:
        try:
            fn()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(fn,)) for fn in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.usefixtures("atomic_dynamodb")
def test_ten_concurrent_updates_of_ten_fields_all_land(repo_stack: RepoStack) -> None:
    repos = table(repo_stack)
    apply_one(repos, plan_onboard("octo/app", None, {}, NOW), lambda r: plan_onboard("octo/app", r, {}, NOW))
    barrier = threading.Barrier(len(TEN))

    def updater(name: str, value: Value) -> Any:
        def plan(row: RepoRow | None) -> Change:
            return plan_update("octo/app", row, {name: value}, (), NOW)

        def run() -> None:
            current = repos.get("octo/app")
            barrier.wait()  # every writer has read the same row before anyone writes
            apply_one(repos, plan(current), plan)

        return run

    assert run_threads([updater(n, v) for n, v in TEN.items()]) == []
    row = repos.get("octo/app")
    assert row is not None
    assert dict(row.fields) == TEN


@pytest.mark.usefixtures("atomic_dynamodb")
def test_concurrent_read_modify_write_of_one_field_loses_nothing(repo_stack: RepoStack) -> None:
    repos = table(repo_stack)
    apply_one(repos, plan_onboard("octo/app", None, {}, NOW), lambda r: plan_onboard("octo/app", r, {}, NOW))
    domains = [f"d{i}.example.com" for i in range(8)]
    barrier = threading.Barrier(len(domains))

    def appender(domain: str) -> Any:
        def plan(row: RepoRow | None) -> Change:
            assert row is not None
            have = row.fields.get("egress_allowlist", ())
            assert isinstance(have, tuple)
            return plan_update("octo/app", row, {"egress_allowlist": (*have, domain)}, (), NOW)

        def run() -> None:
            current = repos.get("octo/app")
            barrier.wait()
            apply_one(repos, plan(current), plan)

        return run

    assert run_threads([appender(d) for d in domains]) == []
    row = repos.get("octo/app")
    assert row is not None
    assert sorted(row.fields["egress_allowlist"]) == sorted(domains)  # type: ignore[arg-type]


class InterferingTable(RepoTable):
    """Another writer changes the row between this command's read and its write, once."""

    def __init__(self, client: Any, name: str, interfere: Any) -> None:
        super().__init__(client, name)
        self.interfere = interfere
        self.writes = 0

    def write(self, request: WriteRequest) -> RepoRow | None:
        self.writes += 1
        if self.writes == 1:
            self.interfere()
        return super().write(request)


def test_a_stale_update_is_re_planned_not_lost(repo_stack: RepoStack) -> None:
    ddb = repo_stack.ddb
    ddb.put_item(TableName=repo_stack.table, Item={"repo": {"S": "octo/app"}, "status": {"S": "active"},
                                                   "max_turns": {"N": "5"}})

    def someone_else() -> None:
        ddb.update_item(TableName=repo_stack.table, Key={"repo": {"S": "octo/app"}},
                        UpdateExpression="SET max_turns = :n", ExpressionAttributeValues={":n": {"N": "7"}})

    repos = InterferingTable(ddb, repo_stack.table, someone_else)
    seen: list[object] = []

    def plan(row: RepoRow | None) -> Change:
        assert row is not None
        seen.append(row.fields["max_turns"])
        return plan_update("octo/app", row, {"max_turns": int(row.fields["max_turns"]) + 1}, (), NOW)  # type: ignore[call-overload]

    applied, _ = apply_one(repos, plan(repos.get("octo/app")), plan)
    assert seen == [5, 7]
    assert repos.writes == 2
    assert repo_stack.item("octo/app")["max_turns"] == {"N": "8"}  # type: ignore[index]
    assert applied.changes[0].old == 7


def test_a_parallel_sync_re_plans_a_row_changed_meanwhile(repo_stack: RepoStack) -> None:
    ddb = repo_stack.ddb

    def someone_else() -> None:
        ddb.put_item(TableName=repo_stack.table, Item={"repo": {"S": "octo/r3"}, "status": {"S": "active"},
                                                       "lint_command": {"S": "theirs"}})

    repos = InterferingTable(ddb, repo_stack.table, someone_else)
    declared: dict[str, dict[str, Value]] = {f"octo/r{i}": {"max_turns": i + 1} for i in range(5)}
    changes = [plan_declared(repo, None, fields, NOW) for repo, fields in declared.items()]
    def replan_for(repo: str) -> Any:
        return lambda row: plan_declared(repo, row, declared[repo], NOW)

    applied = apply_many(repos, changes, replan_for, workers=1)
    assert [c.action for c in applied] == ["create", "create", "create", "update", "create"]
    assert {i["repo"]["S"]: i["max_turns"]["N"] for i in repo_stack.items()} == {
        f"octo/r{i}": str(i + 1) for i in range(5)}
    assert "lint_command" not in repo_stack.item("octo/r3")  # type: ignore[operator]  # the file is the truth


def test_many_rows_are_applied_by_parallel_workers(repo_stack: RepoStack) -> None:
    repos = table(repo_stack)
    declared: dict[str, dict[str, Value]] = {f"octo/r{i:03}": {"max_turns": 1 + i % 500} for i in range(120)}
    changes = [plan_declared(repo, None, fields, NOW) for repo, fields in declared.items()]
    threads: set[int] = set()

    def replan_for(repo: str) -> Any:
        threads.add(threading.get_ident())
        return lambda row: plan_declared(repo, row, declared[repo], NOW)

    applied = apply_many(repos, changes, replan_for, workers=4, batch_size=10)
    assert [c.repo for c in applied] == list(declared)
    assert len(threads) > 1
    assert {i["repo"]["S"]: int(i["max_turns"]["N"]) for i in repo_stack.items()} == {
        repo: fields["max_turns"] for repo, fields in declared.items()}


def test_conditional_put_refuses_an_existing_row(repo_stack: RepoStack) -> None:
    from abca_deploy.repos.writes import build

    repos = table(repo_stack)
    request = build(plan_onboard("octo/app", None, {}, NOW))
    repos.write(request)
    with pytest.raises(WriteConflict) as caught:
        repos.write(request)
    assert caught.value.repo == "octo/app"


def test_an_unknown_table_is_a_user_error(moto_env: str) -> None:
    with pytest.raises(UserError, match="DynamoDB table 'nope' does not exist") as caught:
        RepoTable(boto3.client("dynamodb"), "nope").get("octo/app")
    assert caught.value.exit_code == 2


def test_scan_and_count_read_every_page(repo_stack: RepoStack) -> None:
    ddb = repo_stack.ddb
    big = "x" * 300_000  # ~3 items per 1 MB page
    for i in range(7):
        ddb.put_item(TableName=repo_stack.table, Item={"repo": {"S": f"o/r{i}"}, "status": {
            "S": "active" if i % 2 else "removed"}, "system_prompt_overrides": {"S": big}})
    repos = table(repo_stack)
    assert sorted(r.repo for r in repos.scan()) == [f"o/r{i}" for i in range(7)]
    assert repos.count_active() == 3
    assert plan_offboard("o/r1", repos.get("o/r1"), NOW).action == "offboard"
