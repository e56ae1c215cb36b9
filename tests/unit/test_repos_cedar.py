"""cedar_policies are checked as ABCA's agent loads and evaluates them (agent/src/policy.py at 2cee8800)."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abca_deploy.repos import cedar

FORBID_BASH = ('forbid (principal, action == Agent::Action::"execute_bash", resource) '
               'when { context.command like "*rm -rf*" };')
GUARDED = ('forbid (principal, action, resource) '
           'when { context has command && context.command like "*curl*" };')
ANNOTATED = ('@severity("high")\n@approval_timeout_s("600")\n@category("data")\n'
             'forbid (principal, action == Agent::Action::"write_file", resource)\n'
             'when { context.file_path like "*migrations/*" };')


def test_the_engine_is_the_one_abca_pins() -> None:
    assert version("cedarpy") == "4.8.4"


@pytest.mark.parametrize("policy", [
    "permit(principal, action, resource);",
    FORBID_BASH,
    GUARDED,
    ANNOTATED,
    '@approval_timeout_s("30")\nforbid (principal, action, resource) when { context.read_only };',
    '@approval_timeout_s("1_000")\nforbid (principal, action, resource);',  # the agent reads it with int()
    '@severity\nforbid (principal, action, resource);',  # an annotation without a value is None there
    "// a comment before\nforbid (principal, action, resource);\n// and after",
])
def test_entries_the_agent_loads_are_accepted(policy: str) -> None:
    assert cedar.check([policy]) == (policy,)


def refusal(policies: list[str]) -> str | None:
    try:
        cedar.check(policies)
    except ValueError as exc:
        return str(exc)
    return None


REFUSED = [
    ("@tier declared", '@tier("soft")\nforbid (principal, action, resource);',
     "policy 1 declares @tier or @rule_id; ABCA adds both to every entry itself"),
    ("@rule_id even in a comment (the agent matches text)",
     '// @rule_id("x")\nforbid (principal, action, resource);', "policy 1 declares @tier or @rule_id"),
    ("@tier spelled with a space: a duplicate annotation",
     '@tier ("hard")\nforbid (principal, action, resource);',
     "policy 1 is not valid Cedar: duplicate annotation: @tier"),
    ("two policies in one entry",
     "permit (principal, action, resource);\nforbid (principal, action, resource);",
     "policy 1 holds 2 policies; ABCA annotates each entry as one rule"),
    ("a comment only", "// nothing here\n", "policy 1 is not valid Cedar: unexpected end of input"),
    ("a template", "permit (principal == ?principal, action, resource);", "policy 1 is a template"),
    ("a timeout under the floor", '@approval_timeout_s("10")\nforbid (principal, action, resource);',
     "policy 1: @approval_timeout_s(10) is below ABCA's floor of 30 s"),
    ("a timeout that is not an integer", '@approval_timeout_s("5m")\nforbid (principal, action, resource);',
     "policy 1: @approval_timeout_s('5m') is not an integer"),
    ("an unknown severity", '@severity("urgent")\nforbid (principal, action, resource);',
     "policy 1: @severity('urgent') is not one of low, medium, high"),
    ("an attribute only Bash requests carry",
     'forbid (principal, action, resource) when { context.command like "*"};',
     "policy 1 fails to evaluate on the agent's invoke_tool requests (record does not have the attribute "
     "`command`), so the agent would deny those tool calls"),
    ("an error only in read-only workflows",
     'forbid (principal, action, resource) when { context.read_only && context.file_path like "*" };',
     "policy 1 fails to evaluate on the agent's invoke_tool requests"),
    ("an attribute of an entity that has none",
     'forbid (principal, action, resource) when { principal.team == "a" };',
     "does not have the attribute `team`"),
    ("a syntax error", "permit(principal, action resource);",
     "policy 1 is not valid Cedar: unexpected token"),
    ("empty", "  ", "policy 1 is empty"),
    ("a lone surrogate", "\ud800", "policy 1 is not valid Unicode text"),
]


@pytest.mark.parametrize(("case", "policy", "message"), REFUSED, ids=[c for c, _, _ in REFUSED])
def test_entries_that_would_fail_a_task_are_refused(case: str, policy: str, message: str) -> None:
    refused = refusal([policy])
    assert refused is not None
    assert message in refused
    assert "\n" not in refused


def test_errors_name_the_entry_or_file() -> None:
    with pytest.raises(ValueError, match=r"^deny\.cedar holds 2 policies"):
        cedar.check([FORBID_BASH, FORBID_BASH + FORBID_BASH], names=["ok.cedar", "deny.cedar"])
    with pytest.raises(ValueError, match=r"^policy 2 fails to evaluate on the agent's execute_bash requests"):
        cedar.check([GUARDED, 'forbid (principal, action == Agent::Action::"execute_bash", resource) '
                              "when { context.file_path like \"*\" };"])


def test_the_total_is_capped_at_64_kb_of_utf8() -> None:
    policy = "permit(principal, action, resource);"
    padding = "// " + "é" * 500 + "\n"  # two bytes a character: the cap counts bytes, as the agent does
    fill = padding * ((cedar.MAX_BYTES - len(policy)) // len(padding.encode()))
    assert cedar.check([fill + policy])
    with pytest.raises(ValueError, match=r"over the 65536-byte cap"):
        cedar.check([fill + policy, padding + policy])


@given(st.lists(st.sampled_from([FORBID_BASH, GUARDED, ANNOTATED, "permit(principal, action, resource);"]),
                max_size=8))
def test_any_list_of_loadable_entries_is_loadable_together(policies: list[str]) -> None:
    assert cedar.check(policies) == tuple(policies)


@given(st.text(max_size=80))
def test_arbitrary_text_is_refused_with_one_line_or_accepted(text: str) -> None:
    message = refusal([text])
    if message is not None:
        assert "\n" not in message
        assert message.startswith("policy 1")
