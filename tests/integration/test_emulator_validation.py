"""Requests AWS rejects are rejected with the same error codes (botocore does not check patterns)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("uri", [
    "docker.io/library/python:3.13", "127.0.0.1:5000/abca/agent:v1", "localhost/agent",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/Upper/Case:v1",
])
def test_non_ecr_container_uri_is_a_validation_error(
    control: Any, request_for: Callable[..., dict[str, Any]], uri: str,
) -> None:
    with pytest.raises(control.exceptions.ValidationException) as caught:
        control.create_agent_runtime(agentRuntimeName="bad_uri", **request_for(uri))
    message = caught.value.response["Error"]["Message"]
    assert f"Value '{uri}' at 'agentRuntimeArtifact.containerConfiguration.containerUri'" in message
    assert "regular expression pattern" in message
    assert not any(r["agentRuntimeName"] == "bad_uri" for r in control.list_agent_runtimes()["agentRuntimes"])


def test_unknown_runtime_is_not_found(
    control: Any, data: Any, request_for: Callable[..., dict[str, Any]], agent_image: Callable[..., str],
) -> None:
    missing = "missing-abcdefghij"
    with pytest.raises(control.exceptions.ResourceNotFoundException, match=missing):
        control.get_agent_runtime(agentRuntimeId=missing)
    with pytest.raises(control.exceptions.ResourceNotFoundException):
        control.update_agent_runtime(agentRuntimeId=missing, **request_for(agent_image()))
    with pytest.raises(control.exceptions.ResourceNotFoundException):
        control.create_agent_runtime_endpoint(agentRuntimeId=missing, name="prod")
    with pytest.raises(data.exceptions.ResourceNotFoundException):
        data.invoke_agent_runtime(payload=b"{}",
                                  agentRuntimeArn=f"arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/{missing}")


def test_duplicate_name_is_a_conflict(
    control: Any, new_runtime: Callable[..., dict[str, Any]], request_for: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str],
) -> None:
    created = new_runtime(agent_image())
    name = control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])["agentRuntimeName"]
    with pytest.raises(control.exceptions.ConflictException, match="already exists"):
        control.create_agent_runtime(agentRuntimeName=name, **request_for(agent_image()))
