"""Validation parity with the Blueprint construct and the runtime."""

from __future__ import annotations

import re
import string
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abca_deploy.repos import validate as v

if TYPE_CHECKING:
    from collections.abc import Callable

NAME_CHARS = string.ascii_letters + string.digits + "._-"
names = st.text(NAME_CHARS, min_size=1, max_size=40)


owners = st.text(NAME_CHARS, min_size=1, max_size=v.OWNER_MAX)


@given(owners, names)
def test_every_owner_repo_of_the_blueprint_alphabet_is_accepted(owner: str, repo: str) -> None:
    assert v.repo_name(f"{owner}/{repo}") == f"{owner}/{repo}"


@given(st.text(NAME_CHARS, min_size=1, max_size=400), st.text(NAME_CHARS, min_size=1, max_size=400))
def test_owner_and_name_lengths_follow_github(owner: str, repo: str) -> None:
    if len(owner) <= v.OWNER_MAX and len(repo) <= v.NAME_MAX:
        assert v.repo_name(f"{owner}/{repo}") == f"{owner}/{repo}"
    else:
        with pytest.raises(ValueError, match="longer than GitHub allows"):
            v.repo_name(f"{owner}/{repo}")


@given(owners, names, st.characters(exclude_characters=NAME_CHARS), st.integers(0, 80))
def test_any_other_character_is_rejected(owner: str, repo: str, bad: str, where: int) -> None:
    full = f"{owner}/{repo}"
    where = min(where, len(full))
    with pytest.raises(ValueError, match="is not OWNER/REPO"):
        v.repo_name(full[:where] + bad + full[where:])


@pytest.mark.parametrize("value", ["octo", "octo/app/x", "/app", "octo/", "", "octo /app"])
def test_malformed_repos_are_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="is not OWNER/REPO"):
        v.repo_name(value)


def outcome(check: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """What a check returned, or the reason it refused."""
    try:
        return check(*args), None
    except ValueError as exc:
        return None, str(exc)


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


@pytest.mark.parametrize("raw", ["5.5", "ten", True, 5.0, "", [1], "1_0", "+5", "0x1f", "\u0665\u0660", "5e1",
                                 "1 0"])
def test_integer_fields_reject_non_integers(raw: Any) -> None:
    with pytest.raises(ValueError, match="must be an integer"):
        v.check_field("max_turns", raw)


@given(st.text(max_size=12))
def test_integer_text_is_accepted_only_as_plain_ascii_digits(raw: str) -> None:
    plain = re.fullmatch(r"-?[0-9]+", raw.strip()) is not None
    result, refused = outcome(v.check_field, "max_turns", raw)
    if refused is None:
        assert plain
        assert result == int(raw)
    else:
        assert plain == ("out of range" in refused)


@given(st.text(max_size=12))
def test_budget_text_is_accepted_only_as_plain_ascii_decimals(raw: str) -> None:
    plain = re.fullmatch(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)", raw.strip()) is not None
    _, refused = outcome(v.budget, raw)
    assert plain == (refused is None or "out of range" in refused)


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


def test_a_domain_longer_than_dns_allows_is_rejected() -> None:
    longest = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters: the longest DNS name
    assert v.egress([longest]) == (longest,)
    with pytest.raises(ValueError, match="a domain of 255 characters, longer than DNS allows"):
        v.egress([longest + ".c"])


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


@pytest.mark.parametrize("prefix", ["us.", "eu.", "apac.", "global.", "jp.", "au.", "us-gov."])
def test_model_ids_of_every_geography_have_the_right_shape(prefix: str) -> None:
    model = prefix + "anthropic.claude-opus-4-8"
    assert v.check_field("model_id", model) == model


@pytest.mark.parametrize(("model", "reason"), [
    ("anthropic.claude-opus-4-8", "Bedrock does not invoke a bare model id"),
    ("mars.anthropic.claude-opus-4-8", "Bedrock does not invoke a bare model id"),
    ("us.", "needs exactly one geography prefix"),
    ("us.global.anthropic.claude-opus-5", "needs exactly one geography prefix"),
    (" us.anthropic.claude-opus-5", "is not an inference-profile id"),
    ("us.anthropic.claude-opus-5 ", "is not an inference-profile id"),
])
def test_malformed_model_ids_are_rejected(model: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        v.check_field("model_id", model)


def test_text_is_checked_as_unicode_the_table_can_store() -> None:
    with pytest.raises(ValueError, match="not valid Unicode text"):
        v.check_field("system_prompt_overrides", "half a surrogate \ud800")


def test_text_fields_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        v.check_field("build_command", "  ")
    with pytest.raises(ValueError, match="must be text"):
        v.check_field("lint_command", 5)
