"""Plans (what changes) and the conditional writes they become — no AWS."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

import pytest

from abca_deploy.errors import UserError
from abca_deploy.repos.plan import plan_declared, plan_offboard, plan_onboard, plan_update
from abca_deploy.repos.schema import RepoRow, frozen
from abca_deploy.repos.sync import added, plan_sync
from abca_deploy.repos.writes import build

NOW = datetime(2026, 6, 22, 10, 0, 0, tzinfo=UTC)
STAMP = "2026-06-22T10:00:00.000Z"
ORIGINAL = "2026-01-01T00:00:00.000Z"


def row(status: str = "active", ttl: int | None = None, **fields: object) -> RepoRow:
    return RepoRow("octo/app", status=status, onboarded_at=ORIGINAL, updated_at=ORIGINAL, ttl=ttl,
                   fields=frozen(dict(fields)), extra=MappingProxyType({"team": {"S": "platform"}}))  # type: ignore[arg-type]


def test_onboard_new_repo_is_a_conditional_put_of_the_full_row() -> None:
    change = plan_onboard("octo/app", None, {"max_turns": 50, "egress_allowlist": ("pypi.org",)}, NOW)
    assert change.action == "create"
    request = build(change)
    assert request.operation == "put_item"
    assert request.kwargs == {
        "Item": {"repo": {"S": "octo/app"}, "status": {"S": "active"}, "onboarded_at": {"S": STAMP},
                 "updated_at": {"S": STAMP}, "max_turns": {"N": "50"},
                 "egress_allowlist": {"L": [{"S": "pypi.org"}]}},
        "ConditionExpression": "attribute_not_exists(#k)", "ExpressionAttributeNames": {"#k": "repo"}}


def test_onboard_removed_repo_reactivates_keeping_onboarded_at_and_dropping_ttl() -> None:
    removed = row("removed", ttl=1_800_000_000, max_turns=5)
    change = plan_onboard("octo/app", removed, {"lint_command": "ruff"}, NOW)
    assert change.action == "reactivate"
    assert change.target is not None
    assert (change.target.status, change.target.onboarded_at, change.target.ttl) == ("active", ORIGINAL, None)
    assert dict(change.target.fields) == {"max_turns": 5, "lint_command": "ruff"}
    kwargs = build(change).kwargs
    names = kwargs["ExpressionAttributeNames"]
    assert kwargs["UpdateExpression"].endswith(f"REMOVE {next(k for k, v in names.items() if v == 'ttl')}")
    assert "onboarded_at" not in names.values()
    assert "team" not in names.values()


def test_onboard_active_repo_is_a_no_op_when_nothing_differs() -> None:
    change = plan_onboard("octo/app", row(max_turns=50), {"max_turns": 50}, NOW)
    assert change.action == "unchanged"
    assert not change.changed


def test_onboard_active_repo_that_differs_points_to_update() -> None:
    with pytest.raises(UserError, match="already onboarded and differs in: max_turns") as caught:
        plan_onboard("octo/app", row(max_turns=50), {"max_turns": 60}, NOW)
    assert "repo update octo/app" in caught.value.one_line()


def test_update_sets_only_the_given_fields_conditioned_on_their_old_values() -> None:
    current = row(max_turns=50, build_command="make")
    change = plan_update("octo/app", current, {"max_turns": 60, "lint_command": "ruff"}, (), NOW)
    diffs = [(c.name, c.old, c.new) for c in change.changes]
    assert diffs == [("max_turns", 50, 60), ("lint_command", None, "ruff")]
    kwargs = build(change).kwargs
    names = {v: k for k, v in kwargs["ExpressionAttributeNames"].items()}
    values = kwargs["ExpressionAttributeValues"]
    assert kwargs["UpdateExpression"].startswith("SET ")
    assert "REMOVE" not in kwargs["UpdateExpression"]
    assert set(names) == {"repo", "updated_at", "max_turns", "lint_command", "status"}
    condition = kwargs["ConditionExpression"]
    assert f"attribute_exists({names['repo']})" in condition
    assert f"attribute_not_exists({names['lint_command']})" in condition
    old = next(k for k, val in values.items() if val == {"N": "50"})
    assert f"{names['max_turns']} = {old}" in condition
    assert kwargs["ReturnValues"] == "ALL_NEW"


def test_update_can_remove_fields_and_keeps_what_others_wrote() -> None:
    change = plan_update("octo/app", row(max_turns=50, build_command="make"), {}, ("build_command",), NOW)
    assert change.target is not None
    assert dict(change.target.fields) == {"max_turns": 50}
    assert dict(change.target.extra) == {"team": {"S": "platform"}}
    assert " REMOVE " in build(change).kwargs["UpdateExpression"]


def test_update_of_identical_values_is_unchanged() -> None:
    assert plan_update("octo/app", row(max_turns=50), {"max_turns": 50}, (), NOW).action == "unchanged"


@pytest.mark.parametrize(("current", "message"), [(None, "is not onboarded"),
                                                   (row("removed"), "is offboarded")])
def test_update_needs_an_active_row(current: RepoRow | None, message: str) -> None:
    with pytest.raises(UserError, match=message):
        plan_update("octo/app", current, {"max_turns": 1}, (), NOW)


def test_offboard_is_a_soft_delete_with_a_thirty_day_ttl() -> None:
    change = plan_offboard("octo/app", row(max_turns=5), NOW)
    assert change.target is not None
    assert (change.target.status, change.target.ttl) == ("removed", int(NOW.timestamp()) + 30 * 86400)
    assert change.target.updated_at == STAMP
    assert dict(change.target.fields) == {"max_turns": 5}


def test_offboard_is_idempotent_and_refuses_unknown_repos() -> None:
    assert plan_offboard("octo/app", row("removed"), NOW).action == "unchanged"
    with pytest.raises(UserError, match="not onboarded"):
        plan_offboard("octo/app", None, NOW)


def test_mistyped_list_is_rewritten_as_a_list_of_strings() -> None:
    mistyped = MappingProxyType({"egress_allowlist": {"SS": ["a.org"]}})
    current = RepoRow("octo/app", fields=frozen({}), extra=mistyped)
    change = plan_update("octo/app", current, {"egress_allowlist": ("a.org",)}, (), NOW)
    kwargs = build(change).kwargs
    assert {"L": [{"S": "a.org"}]} in kwargs["ExpressionAttributeValues"].values()
    assert {"SS": ["a.org"]} in kwargs["ExpressionAttributeValues"].values()  # the condition: the value read


def test_sync_plans_every_kind_of_change() -> None:
    rows = [row(max_turns=5, build_command="make"),
            RepoRow("octo/old", status="active", fields=frozen({})),
            RepoRow("octo/gone", status="removed", ttl=1, fields=frozen({})),
            RepoRow("octo/same", status="active", fields=frozen({"max_turns": 7}))]
    declared = {"octo/app": {"max_turns": 6}, "octo/new": {}, "octo/gone": {"skills": ("registry://skill/a/b@1.0.0",)},
                "octo/same": {"max_turns": 7}}
    changes = {c.repo: c for c in plan_sync(rows, declared, True, NOW)}
    assert {repo: c.action for repo, c in changes.items()} == {
        "octo/app": "update", "octo/new": "create", "octo/gone": "reactivate", "octo/same": "unchanged",
        "octo/old": "offboard"}
    assert [(c.name, c.old, c.new) for c in changes["octo/app"].changes] == [
        ("max_turns", 5, 6), ("build_command", "make", None)]
    assert added(list(changes.values())) == 1


def test_sync_without_prune_leaves_undeclared_rows_alone() -> None:
    changes = plan_sync([RepoRow("octo/old", fields=frozen({}))], {}, False, NOW)
    assert changes == []


def test_declared_none_means_offboard() -> None:
    assert plan_declared("octo/app", row(), None, NOW).action == "offboard"
