"""model_id: exactly the inference profiles the stack's IAM grant covers, and the rule that said so."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abca_deploy.repos import models

NEW_STACK = {"BedrockModelIds": "anthropic.claude-opus-5, anthropic.claude-sonnet-4-6,",
             "BedrockGeoRegion": "global"}


def refusal(model: str, granted: models.ModelGrant) -> str:
    with pytest.raises(ValueError, match="allowed: ") as refused:
        models.check(model, granted)
    return str(refused.value)


def test_a_stack_with_the_outputs_grants_exactly_its_ids_in_its_geography() -> None:
    granted = models.grant(NEW_STACK, "prod")
    assert granted.ids == ("global.anthropic.claude-opus-5", "global.anthropic.claude-sonnet-4-6")
    assert models.check("global.anthropic.claude-opus-5", granted) == "global.anthropic.claude-opus-5"
    assert ("'us.anthropic.claude-opus-5' is a 'us' profile, but the grant covers 'global' profiles (rule: "
            "stack prod's BedrockModelIds output, with BedrockGeoRegion=global)"
            ) in refusal("us.anthropic.claude-opus-5", granted)
    # Granted by the old default list, but not by this stack's output:
    assert "'global.anthropic.claude-opus-4-8' is not granted (rule: stack prod's BedrockModelIds" in refusal(
        "global.anthropic.claude-opus-4-8", granted)


def test_a_stack_without_the_outputs_falls_back_to_abcas_default_list_and_us_profiles() -> None:
    granted = models.grant({"RepoTableName": "t"}, "old")
    assert granted.ids == tuple(f"us.{m}" for m in models.DEFAULT_MODELS)
    message = refusal("eu.anthropic.claude-opus-4-8", granted)
    assert ("is a 'eu' profile, but the grant covers 'us' profiles (rule: stack old has no "
            "BedrockModelIds output, so ABCA's default model list, with no BedrockGeoRegion output, so us. "
            "profiles)") in message


def test_a_geography_output_alone_moves_the_default_list() -> None:
    granted = models.grant({"BedrockGeoRegion": "eu"}, "s")
    assert granted.ids == tuple(f"eu.{m}" for m in models.DEFAULT_MODELS)


def test_no_stack_read_says_so() -> None:
    assert "no stack was read (--repo-table)" in refusal("us.acme.x", models.grant({}, None))


def test_allowed_models_override_the_stack_and_take_its_geography() -> None:
    granted = models.grant(NEW_STACK, "prod", ["acme.model-1", "eu.acme.model-2"])
    assert granted.ids == ("global.acme.model-1", "eu.acme.model-2")
    message = refusal("global.anthropic.claude-opus-5", granted)
    assert "(rule: --allowed-models, with BedrockGeoRegion=global)" in message


@pytest.mark.parametrize("entry", ["", " acme.x", "a,b", "us.", "us.eu.acme.x"])
def test_bad_allowed_model_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match=r"model id|inference-profile|geography"):
        models.allowed_entry(entry)


bare_ids = st.from_regex(r"[a-z]{2,10}\.[a-z0-9-]{1,20}(:[0-9])?", fullmatch=True)


@given(st.lists(bare_ids, min_size=1, max_size=6, unique=True), st.sampled_from(models.GEOS),
       bare_ids, st.sampled_from(models.GEOS))
def test_exactly_the_granted_profiles_pass(granted_ids: list[str], geo: str, bare: str,
                                          asked_geo: str) -> None:
    granted = models.grant({"BedrockModelIds": ",".join(granted_ids), "BedrockGeoRegion": geo}, "s")
    model = f"{asked_geo}.{bare}"
    if asked_geo == geo and bare in granted_ids:
        assert models.check(model, granted) == model
    else:
        rule = f"rule: stack s's BedrockModelIds output, with BedrockGeoRegion={geo}"
        with pytest.raises(ValueError, match=rule):
            models.check(model, granted)
