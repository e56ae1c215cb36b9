"""Token environment-variable names: a name is accepted, a token value is refused and never echoed."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from abca_deploy.credentials import looks_like_credential
from abca_deploy.repos.commands import ONBOARD
from abca_deploy.repos.options import OnboardSettings
from abca_deploy.settings import env_var_name, settings_error

TOKEN_CHARS = string.ascii_letters + string.digits
github_tokens = st.builds(lambda kind, body: f"gh{kind}_{body}", st.sampled_from("pousr"),
                          st.text(TOKEN_CHARS, min_size=36, max_size=40))
fine_grained = st.builds(lambda body: f"github_pat_{body}",
                         st.text(TOKEN_CHARS + "_", min_size=60, max_size=82))
env_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,30}", fullmatch=True)


@given(env_names)
def test_ordinary_variable_names_are_accepted(name: str) -> None:
    assert env_var_name(name) == name


@given(st.one_of(github_tokens, fine_grained))
def test_token_values_are_refused_without_being_echoed(token: str) -> None:
    assert looks_like_credential(token)
    for field in ("github_token_env", "platform_token_env"):
        with pytest.raises(ValidationError) as refused:
            OnboardSettings(repo="octo/app", **{field: token})
        error = settings_error(refused.value, OnboardSettings, ONBOARD.positional)
        assert token not in error.one_line()
        assert "looks like a token, not the name of an environment variable" in error.message


@given(st.one_of(github_tokens, fine_grained))
def test_a_token_given_as_any_other_value_is_not_echoed(token: str) -> None:
    with pytest.raises(ValidationError) as refused:
        OnboardSettings(repo="octo/app", model=token)
    error = settings_error(refused.value, OnboardSettings, ONBOARD.positional)
    assert token not in error.one_line()
    assert error.one_line().startswith("--model: is not an inference-profile id")


@pytest.mark.parametrize("name", ["MY-PAT", "1PAT", "PAT NAME", "", "PÄT"])
def test_non_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is not an environment variable name"):
        env_var_name(name)
