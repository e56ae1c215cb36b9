"""The warnings ABCA's CLI gives, and the ones an integrated stack (integrations/abca) makes untrue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from abca_deploy import abca_stack
from abca_deploy.repos.plan import plan_offboard, plan_onboard, plan_update
from abca_deploy.repos.schema import PENDING_SECRET
from abca_deploy.repos.target import EGRESS_NOTE, LIST_NOT_UPDATED_NOTE, NO_STACK_NOTE, SECRET_NOTE, notes

NOW = datetime(2026, 8, 14, 12, 0, tzinfo=UTC)
RUNTIME = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/backgroundagent-0123456789"
UNPATCHED = {"RepoTableName": "repos", "RuntimeArn": RUNTIME}
INTEGRATED = {**UNPATCHED, abca_stack.DOMAIN_LIST_OUTPUT: "rslvr-fdl-0123456789abcdef0",
              abca_stack.IMAGE_PARAMETER_OUTPUT: "/abca/backgroundagent-dev/runtime-image"}
OWN_TOKEN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:abca/github-token/octo/app-AbC123"


def noted(outputs: dict[str, str], **fields: object) -> list[str]:
    return notes(plan_onboard("octo/app", None, fields, NOW), outputs)  # type: ignore[arg-type]


def test_egress_is_a_warning_unless_the_stack_keeps_a_runtime_domain_list() -> None:
    assert noted(UNPATCHED, egress_allowlist=("pypi.org",)) == [EGRESS_NOTE]
    assert "integrations/abca" in EGRESS_NOTE
    assert noted({}, egress_allowlist=("pypi.org",)) == [EGRESS_NOTE + NO_STACK_NOTE]
    assert noted(INTEGRATED, egress_allowlist=("pypi.org",)) == []


@pytest.mark.parametrize(("outputs", "secret", "warned"), [
    (INTEGRATED, OWN_TOKEN, False),
    (INTEGRATED, PENDING_SECRET, False),  # a dry run of --github-token-env
    (UNPATCHED, OWN_TOKEN, True),
    (UNPATCHED, PENDING_SECRET, True),
    (INTEGRATED, OWN_TOKEN.replace("123456789012", "210987654321"), True),  # another account
    (INTEGRATED, OWN_TOKEN.replace("us-east-1", "eu-west-1"), True),  # another region
    (INTEGRATED, "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/pat-AbC123", True),
    ({abca_stack.DOMAIN_LIST_OUTPUT: "rslvr-fdl-0123456789abcdef0"}, OWN_TOKEN, True),  # scope unknown
])
def test_a_token_secret_is_a_warning_unless_the_integrated_stack_grants_it(
        outputs: dict[str, str], secret: str, warned: bool) -> None:
    assert (SECRET_NOTE in noted(outputs, github_token_secret_arn=secret)) is warned


def test_with_repo_table_a_change_of_the_allowed_domains_says_the_list_is_not_updated() -> None:
    onboarded = plan_onboard("octo/app", None, {"egress_allowlist": ("pypi.org",)}, NOW).target
    assert onboarded is not None
    offboard = plan_offboard("octo/app", onboarded, NOW)
    unset = plan_update("octo/app", onboarded, {}, ("egress_allowlist",), NOW)
    other = plan_update("octo/app", onboarded, {"max_turns": 9}, (), NOW)
    assert notes(offboard, {}) == notes(unset, {}) == [LIST_NOT_UPDATED_NOTE]
    assert notes(other, {}) == []  # the same domains stay allowed
    assert notes(offboard, UNPATCHED) == notes(offboard, INTEGRATED) == []
    assert noted({}, egress_allowlist=("pypi.org",)).count(LIST_NOT_UPDATED_NOTE) == 0  # said once, above
