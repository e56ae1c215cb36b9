"""The row model and its exact DynamoDB types."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType

from hypothesis import given
from hypothesis import strategies as st

from abca_deploy.repos.schema import (
    ATTRIBUTES,
    SETTABLE,
    RepoRow,
    frozen,
    iso_now,
    item_from_row,
    number_text,
    redact_secret_arn,
    removal_ttl,
    row_from_item,
    to_attribute,
)

ALL_FIELDS = {
    "compute_type": "ecs",
    "runtime_arn": "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/r-AbCdEfGhIj",
    "model_id": "us.anthropic.claude-opus-4-8", "max_turns": 50, "max_budget_usd": Decimal("2.5"),
    "system_prompt_overrides": "Be brief.",
    "github_token_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:abca/o/r-AbC123",
    "poll_interval_ms": 30000, "build_command": "make", "lint_command": "make lint",
    "egress_allowlist": ("pypi.org", "*.example.com"),
    "cedar_policies": ("permit(principal, action, resource);",),
    "approval_gate_cap": 10, "mcp_servers": ("registry://mcp_server/acme/search@^1.2.0",),
    "cedar_policy_modules": ("registry://cedar_policy_module/acme/base@1.0.0",),
    "skills": ("registry://skill/acme/review@~2.0.1",),
}


def test_attribute_names_are_the_blueprint_schema() -> None:
    assert ATTRIBUTES == (
        "repo", "status", "onboarded_at", "updated_at", "compute_type", "runtime_arn", "model_id",
        "max_turns", "max_budget_usd", "system_prompt_overrides", "github_token_secret_arn",
        "poll_interval_ms", "build_command", "lint_command", "egress_allowlist", "cedar_policies",
        "approval_gate_cap", "mcp_servers", "cedar_policy_modules", "skills", "ttl")


def test_every_settable_field_has_its_dynamodb_type() -> None:
    item = item_from_row(RepoRow("o/r", onboarded_at="t0", updated_at="t1", fields=frozen(dict(ALL_FIELDS))))
    types = {name: next(iter(value)) for name, value in item.items()}
    assert types == {
        "repo": "S", "status": "S", "onboarded_at": "S", "updated_at": "S", "compute_type": "S",
        "runtime_arn": "S", "model_id": "S", "max_turns": "N", "max_budget_usd": "N",
        "system_prompt_overrides": "S", "github_token_secret_arn": "S", "poll_interval_ms": "N",
        "build_command": "S", "lint_command": "S", "egress_allowlist": "L", "cedar_policies": "L",
        "approval_gate_cap": "N", "mcp_servers": "L", "cedar_policy_modules": "L", "skills": "L"}
    assert item["egress_allowlist"] == {"L": [{"S": "pypi.org"}, {"S": "*.example.com"}]}
    assert item["max_budget_usd"] == {"N": "2.5"}


def test_unset_fields_are_omitted_not_null() -> None:
    item = item_from_row(RepoRow("o/r", fields=frozen({"max_turns": 5})))
    assert set(item) == {"repo", "status", "max_turns"}


def test_numbers_are_written_without_exponent_or_trailing_zeros() -> None:
    texts = [number_text(Decimal("10")), number_text(Decimal("2.50")), number_text(Decimal("1E+2")),
             number_text(7)]
    assert texts == ["10", "2.5", "100", "7"]


def test_string_set_or_mistyped_number_is_kept_aside_as_extra() -> None:
    row = row_from_item({"repo": {"S": "o/r"}, "status": {"S": "active"},
                         "egress_allowlist": {"SS": ["a.org"]}, "max_turns": {"S": "many"},
                         "owner_team": {"S": "platform"}})
    assert dict(row.fields) == {}
    assert set(row.extra) == {"egress_allowlist", "max_turns", "owner_team"}


def test_timestamps_match_javascript_to_iso_string() -> None:
    assert iso_now(datetime(2026, 6, 22, 10, 0, 1, 234567, tzinfo=UTC)) == "2026-06-22T10:00:01.234Z"


def test_removal_ttl_is_thirty_days_later() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert removal_ttl(now) == int(now.timestamp()) + 30 * 86400


def test_secret_arns_are_redacted_like_abca() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:abca/github-token/octo/app-AbC123"
    assert redact_secret_arn(arn) == "arn:aws:secretsmanager:us-east-1:123456789012:secret:****-AbC123"
    assert redact_secret_arn("not-an-arn") == "****"


texts = st.text(min_size=1, max_size=20)
values = {
    "S": texts,
    "L": st.lists(texts, max_size=4).map(tuple),
}


@st.composite
def rows(draw: st.DrawFn) -> RepoRow:
    fields = {}
    for attr in SETTABLE:
        if not draw(st.booleans()):
            continue
        if attr.kind == "N":
            fields[attr.name] = draw(st.integers(0, 10**6)) if attr.integer else draw(
                st.decimals(Decimal("0.01"), Decimal(100), places=2))
        else:
            fields[attr.name] = draw(values[attr.kind])
    extra = {"team": {"S": draw(texts)}} if draw(st.booleans()) else {}
    ttl = draw(st.none() | st.integers(0, 2**40))
    return RepoRow(repo="o/r", status=draw(st.sampled_from(["active", "removed"])), onboarded_at="a",
                   updated_at="b", ttl=ttl, fields=frozen(fields), extra=MappingProxyType(extra))


@given(rows())
def test_rows_round_trip_through_dynamodb_items(row: RepoRow) -> None:
    back = row_from_item(item_from_row(row))
    assert back == row
    for name, value in row.fields.items():
        assert to_attribute(name, value) == item_from_row(back)[name]
