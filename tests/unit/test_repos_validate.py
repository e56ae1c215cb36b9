"""Validation parity with the Blueprint construct and the runtime."""

from __future__ import annotations

import re
import string
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abca_deploy.repos import validate as v

NAME_CHARS = string.ascii_letters + string.digits + "._-"
names = st.text(NAME_CHARS, min_size=1, max_size=40)


@given(names, names)
def test_every_owner_repo_of_the_blueprint_alphabet_is_accepted(owner: str, repo: str) -> None:
    assert v.repo_name(f"{owner}/{repo}") == f"{owner}/{repo}"


@given(names, names, st.characters(exclude_characters=NAME_CHARS), st.integers(0, 80))
def test_any_other_character_is_rejected(owner: str, repo: str, bad: str, where: int) -> None:
    full = f"{owner}/{repo}"
    where = min(where, len(full))
    with pytest.raises(ValueError, match="is not OWNER/REPO"):
        v.repo_name(full[:where] + bad + full[where:])


@pytest.mark.parametrize("value", ["octo", "octo/app/x", "/app", "octo/", "", "octo /app"])
def test_malformed_repos_are_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="is not OWNER/REPO"):
        v.repo_name(value)


RANGES = {"max_turns": (1, 500), "poll_interval_ms": (5000, 300000), "approval_gate_cap": (1, 500)}


@pytest.mark.parametrize("field", sorted(RANGES))
@given(number=st.integers(-10**7, 10**7))
def test_integer_fields_accept_exactly_their_range(field: str, number: int) -> None:
    low, high = RANGES[field]
    for raw in (number, str(number)):
        if low <= number <= high:
            assert v.check_field(field, raw) == number
        else:
            with pytest.raises(ValueError, match="out of range"):
                v.check_field(field, raw)


@pytest.mark.parametrize("raw", ["5.5", "ten", True, 5.0, "", [1]])
def test_integer_fields_reject_non_integers(raw: Any) -> None:
    with pytest.raises(ValueError, match="must be an integer"):
        v.check_field("max_turns", raw)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
def test_budget_accepts_exactly_001_to_100(number: Decimal) -> None:
    if Decimal("0.01") <= number <= 100:
        assert v.budget(str(number)) == number
    else:
        with pytest.raises(ValueError, match="out of range"):
            v.budget(str(number))


@pytest.mark.parametrize("raw", ["nan", "inf", float("inf"), "-Infinity", "five", True])
def test_budget_rejects_non_finite_numbers(raw: Any) -> None:
    with pytest.raises(ValueError, match="number"):
        v.budget(raw)


def test_compute_types() -> None:
    for compute in ("agentcore", "ecs", "lambda-microvm"):
        assert v.compute_type(compute) == compute
    with pytest.raises(ValueError, match="not a compute type"):
        v.compute_type("fargate")


labels = st.from_regex(re.compile(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"), fullmatch=True)


@given(st.lists(labels, min_size=1, max_size=4), st.booleans())
def test_domains_built_from_valid_labels_are_accepted(parts: list[str], wildcard: bool) -> None:
    domain = ("*." if wildcard else "") + ".".join(parts)
    assert v.egress([domain]) == (domain,)


@pytest.mark.parametrize("domain", ["PyPI.org", "-a.org", "a-.org", "a..org", "*.*.org", "a.org.", "https://a.org",
                                    "a_b.org", "*", ""])
def test_bad_domains_are_rejected(domain: str) -> None:
    with pytest.raises(ValueError, match="invalid domain"):
        v.egress(["pypi.org", domain])


@pytest.mark.parametrize(("field", "ref"), [
    ("mcp_servers", "registry://mcp_server/acme/search@1.2.3"),
    ("cedar_policy_modules", "registry://cedar_policy_module/acme/base@^1.0.0"),
    ("skills", "registry://skill/acme/review@~0.3.1-beta.1"),
])
def test_registry_refs_of_the_fields_kind_are_accepted(field: str, ref: str) -> None:
    assert v.check_field(field, [ref]) == (ref,)


def test_registry_ref_of_another_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"'skill' ref .* where a 'mcp_server' ref belongs"):
        v.check_field("mcp_servers", ["registry://skill/acme/review@1.0.0"])


@pytest.mark.parametrize("ref", ["registry://skill/acme/review", "registry://skill/acme/review@latest",
                                 "registry://skill/acme/review@>=1.0.0", "registry://skill/Acme/review@1.0.0",
                                 "registry://skill/acme/review@01.0.0", "skill/acme/review@1.0.0"])
def test_loose_registry_refs_are_rejected(ref: str) -> None:
    with pytest.raises(ValueError, match=r"registry ref|version constraint"):
        v.check_field("skills", [ref])


def test_cedar_is_parsed() -> None:
    good = 'permit(principal, action == Action::"read", resource);'
    assert v.cedar([good]) == (good,)
    with pytest.raises(ValueError, match="policy 2 is not valid Cedar"):
        v.cedar([good, "permit(principal, action resource);"])
    with pytest.raises(ValueError, match=r"deny\.cedar is not valid Cedar"):
        v.cedar(["forbid(principal"], names=["deny.cedar"])


def test_cedar_total_is_capped_at_64_kb() -> None:
    policy = "permit(principal, action, resource);"
    padding = "// " + "x" * 1000 + "\n"
    at_cap = padding * ((v.CEDAR_MAX_BYTES - len(policy)) // len(padding))
    assert v.cedar([at_cap + policy])
    with pytest.raises(ValueError, match="over the 65536-byte cap"):
        v.cedar([at_cap + policy, padding * 2 + policy])


@pytest.mark.parametrize("prefix", ["us.", "eu.", "apac."])
def test_granted_inference_profiles_are_accepted(prefix: str) -> None:
    assert v.model_id(prefix + "anthropic.claude-opus-4-8") == prefix + "anthropic.claude-opus-4-8"


@pytest.mark.parametrize(("model", "reason"), [
    ("anthropic.claude-opus-4-8", "not an inference-profile id"),
    ("global.anthropic.claude-opus-4-8", "not an inference-profile id"),
    ("us.anthropic.claude-unknown", "is not granted"),
    ("us.", "is not granted"),
])
def test_other_models_are_rejected(model: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        v.model_id(model)


def test_the_granted_list_can_be_replaced() -> None:
    assert v.model_id("eu.acme.model-1", ["acme.model-1"]) == "eu.acme.model-1"
    with pytest.raises(ValueError, match="bare model id"):
        v.bare_model("us.acme.model-1")


def test_text_fields_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        v.check_field("build_command", "  ")
    with pytest.raises(ValueError, match="must be text"):
        v.check_field("lint_command", 5)
