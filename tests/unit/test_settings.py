"""Settings: flags and environment variables map to the same fields; bad values are one-line errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abca_deploy.errors import UserError
from abca_deploy.runtime.commands import PUBLISH
from abca_deploy.settings import env_name, flag_name, parse

RID = "abca_runtime-AbCdEfGh12"


def test_flags_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABCA_RUNTIME_ID", RID)
    monkeypatch.setenv("ABCA_WAIT_TIMEOUT", "30")
    settings = parse(PUBLISH, "p", ["--wait-timeout", "60"])
    assert settings.runtime_id == RID
    assert settings.wait_timeout == 60


def test_empty_environment_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABCA_RUNTIME_ID", RID)
    for name in ("ABCA_TAGS", "ABCA_IMAGE", "ABCA_WAIT_TIMEOUT", "ABCA_BUILD_ARGS", "ABCA_ROLLBACK"):
        monkeypatch.setenv(name, "")
    settings = parse(PUBLISH, "p", [])
    assert settings.tags == []
    assert settings.wait_timeout == 900
    assert settings.build_args == []
    assert settings.rollback is True


def test_multiline_environment_list_and_repeated_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABCA_RUNTIME_ID", RID)
    monkeypatch.setenv("ABCA_BUILD_ARGS", "A=1\nB=x,y\n")
    assert parse(PUBLISH, "p", []).build_args == ["A=1", "B=x,y"]
    assert parse(PUBLISH, "p", ["--build-args", "C=3", "--build-args", "D=4"]).build_args == ["C=3", "D=4"]
    monkeypatch.setenv("ABCA_TAGS", "abc123\nrelease-1\n")
    assert parse(PUBLISH, "p", []).tags == ["abc123", "release-1"]


def test_rollback_is_on_by_default_and_turned_off_by_flag_or_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABCA_RUNTIME_ID", RID)
    assert parse(PUBLISH, "p", []).rollback is True
    assert parse(PUBLISH, "p", ["--no-rollback"]).rollback is False
    monkeypatch.setenv("ABCA_ROLLBACK", "false")
    assert parse(PUBLISH, "p", []).rollback is False
    assert parse(PUBLISH, "p", ["--rollback"]).rollback is True


def test_boolean_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABCA_RUNTIME_ID", RID)
    monkeypatch.setenv("ABCA_DRY_RUN", "true")
    assert parse(PUBLISH, "p", []).dry_run is True


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--wait-timeout", "-5"],
            "--wait-timeout: Input should be greater than 0 (got '-5'); allowed: seconds",
        ),
        (["--smoke-payload", "{nope"], "--smoke-payload: is not valid JSON"),
        (["--image", "docker.io/library/x:1"], "--image: is not an ECR image URI"),
        (["--smoke-expect-status", "200,abc"], "--smoke-expect-status: must be HTTP status codes"),
        (["--build-args", "NOEQUALS"], "--build-args: 'NOEQUALS' is not KEY=VALUE"),
        (["--tags", ".bad"], "--tags (item 1): is not a valid image tag"),
        (["--output", "yaml"], "invalid choice"),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_flag(argv: list[str], expected: str) -> None:
    with pytest.raises(UserError) as info:
        parse(PUBLISH, "abca-deploy runtime publish", ["--runtime-id", RID, *argv])
    assert expected in info.value.one_line()
    assert "\n" not in info.value.one_line()
    assert info.value.exit_code == 2


def test_field_names_map_to_flags_and_environment() -> None:
    assert flag_name("smoke_expect_status") == "--smoke-expect-status"
    assert env_name("smoke_expect_status") == "ABCA_SMOKE_EXPECT_STATUS"


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_wait_timeout_range(value: int) -> None:
    argv = ["--runtime-id", RID, "--wait-timeout", str(value)]
    if 0 < value <= 21600:
        assert parse(PUBLISH, "p", argv).wait_timeout == value
    else:
        with pytest.raises(UserError, match="--wait-timeout"):
            parse(PUBLISH, "p", argv)


@pytest.mark.parametrize(
    "name", ["1stack", "stack_name", "s" * 129, "arn:aws:cloudformation:us-east-1:1:stack/x"])
def test_the_runtime_commands_refuse_a_stack_name_cloudformation_would(name: str) -> None:
    with pytest.raises(UserError) as info:
        parse(PUBLISH, "p", ["--stack-name", name])
    assert info.value.one_line().startswith("--stack-name: is not a CloudFormation stack name or stack ARN")


def test_a_stack_arn_names_the_stack_too() -> None:
    arn = "arn:aws:cloudformation:us-east-1:123456789012:stack/backgroundagent-dev/0a1b2c3d-4e5f"
    assert parse(PUBLISH, "p", ["--stack-name", arn]).stack_name == arn
