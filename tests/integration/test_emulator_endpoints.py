"""Named endpoints: pinned to a version, moved by UpdateAgentRuntimeEndpoint; DEFAULT is managed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.docker


def message(data: Any, arn: str, qualifier: str) -> str:
    """The example agent's message through the endpoint ``qualifier``."""
    answer = data.invoke_agent_runtime(agentRuntimeArn=arn, qualifier=qualifier, payload=b'{"prompt": "x"}')
    return str(json.loads(answer["response"].read())["message"])


@pytest.fixture
def two_versions(
    control: Any, new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str], request_for: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    """A runtime with READY versions 1 ("one") and 2 ("two"), and a named endpoint "prod" created on 1."""
    created = new_runtime(agent_image(message="one"))
    runtime_id = created["agentRuntimeId"]
    wait_runtime(runtime_id)
    endpoint = control.create_agent_runtime_endpoint(agentRuntimeId=runtime_id, name="prod",
                                                     description="live")
    assert (endpoint["status"], endpoint["targetVersion"], endpoint["endpointName"]) == (
        "CREATING", "1", "prod")
    control.update_agent_runtime(agentRuntimeId=runtime_id, **request_for(agent_image(message="two")))
    assert wait_runtime(runtime_id)["status"] == "READY"
    return created


def test_named_endpoint_stays_pinned_then_moves(
    control: Any, data: Any, two_versions: dict[str, Any], wait_endpoint: Callable[..., dict[str, Any]],
    wait_containers: Callable[..., list[str]],
) -> None:
    runtime_id, arn = two_versions["agentRuntimeId"], two_versions["agentRuntimeArn"]
    prod = wait_endpoint(runtime_id, "prod")
    assert (prod["status"], prod["liveVersion"], prod["targetVersion"]) == ("READY", "1", "1")
    assert prod["description"] == "live"
    assert (message(data, arn, "prod"), message(data, arn, "DEFAULT")) == ("one", "two")
    assert wait_containers(runtime_id, ["1", "2"]) == ["1", "2"]

    moving = control.update_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="prod",
                                                   agentRuntimeVersion="2")
    assert (moving["status"], moving["liveVersion"], moving["targetVersion"]) == ("UPDATING", "1", "2")
    moved = wait_endpoint(runtime_id, "prod")
    assert (moved["status"], moved["liveVersion"], moved["targetVersion"]) == ("READY", "2", "2")
    assert message(data, arn, "prod") == "two"
    assert wait_containers(runtime_id, ["2"]) == ["2"]


def test_endpoint_moved_back_restarts_the_old_version(
    control: Any, data: Any, two_versions: dict[str, Any], wait_endpoint: Callable[..., dict[str, Any]],
    wait_containers: Callable[..., list[str]],
) -> None:
    runtime_id, arn = two_versions["agentRuntimeId"], two_versions["agentRuntimeArn"]
    wait_endpoint(runtime_id, "prod")
    control.delete_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="prod")
    assert wait_containers(runtime_id, ["2"]) == ["2"]

    canary = control.create_agent_runtime_endpoint(agentRuntimeId=runtime_id, name="canary",
                                                   agentRuntimeVersion="1")
    assert canary["targetVersion"] == "1"
    assert wait_endpoint(runtime_id, "canary")["liveVersion"] == "1"
    assert message(data, arn, "canary") == "one"
    listed = control.list_agent_runtime_endpoints(agentRuntimeId=runtime_id)["runtimeEndpoints"]
    assert [(e["name"], e.get("liveVersion")) for e in listed] == [("DEFAULT", "2"), ("canary", "1")]


def test_endpoint_rules(control: Any, two_versions: dict[str, Any]) -> None:
    runtime_id = two_versions["agentRuntimeId"]
    with pytest.raises(control.exceptions.ValidationException, match="Version 9"):
        control.create_agent_runtime_endpoint(agentRuntimeId=runtime_id, name="staging",
                                              agentRuntimeVersion="9")
    with pytest.raises(control.exceptions.ConflictException, match="already exists"):
        control.create_agent_runtime_endpoint(agentRuntimeId=runtime_id, name="DEFAULT")
    with pytest.raises(control.exceptions.ConflictException, match="cannot be deleted"):
        control.delete_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="DEFAULT")
    with pytest.raises(control.exceptions.ResourceNotFoundException):
        control.get_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="nosuch")
