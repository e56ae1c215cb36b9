"""Create -> READY -> invoke; updates as immutable versions; DEFAULT following the latest READY version."""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.sandbox.emulator.server import EmulatorServer

pytestmark = pytest.mark.docker

SESSION = "session-0123456789-0123456789-0123456789"


def invoke(data: Any, arn: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """InvokeAgentRuntime's JSON body."""
    answer = data.invoke_agent_runtime(agentRuntimeArn=arn, payload=json.dumps(payload).encode(), **extra)
    assert answer["statusCode"] == 200
    return dict(json.loads(answer["response"].read()))


def test_create_becomes_ready_and_invokes(
    data: Any, new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str], agent_containers: Callable[..., list[Any]],
) -> None:
    created = new_runtime(agent_image(message="first"), environmentVariables={"AGENT_MODE": "test"})
    assert (created["status"], created["agentRuntimeVersion"]) == ("CREATING", "1")

    ready = wait_runtime(created["agentRuntimeId"])
    assert ready["status"] == "READY", ready.get("failureReason")
    [container] = agent_containers(created["agentRuntimeId"])
    assert container.labels["abca-deploy.sandbox.version"] == "1"
    assert container.ports["8080/tcp"][0]["HostIp"] == "127.0.0.1"

    answer = data.invoke_agent_runtime(agentRuntimeArn=created["agentRuntimeArn"], runtimeSessionId=SESSION,
                                       payload=json.dumps({"input": {"task": "t1"}}).encode(),
                                       contentType="application/json", accept="application/json")
    assert (answer["statusCode"], answer["contentType"], answer["runtimeSessionId"]) == (
        200, "application/json", SESSION)
    assert json.loads(answer["response"].read()) == {
        "message": "first", "echo": {"task": "t1"}, "session_id": SESSION,
        "environment": {"AGENT_MODE": "test"}}


def test_empty_input_is_the_agents_400_reported_as_aws_does(
    data: Any, new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str],
) -> None:
    created = new_runtime(agent_image())
    assert wait_runtime(created["agentRuntimeId"])["status"] == "READY"

    with pytest.raises(ClientError) as caught:
        data.invoke_agent_runtime(agentRuntimeArn=created["agentRuntimeArn"], payload=b'{"input":{}}')
    assert caught.value.response["Error"]["Code"] == "RuntimeClientError"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert caught.value.response["Error"]["Message"].startswith("Received error (400) from runtime.")


def test_event_stream_is_passed_through(
    data: Any, new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str],
) -> None:
    created = new_runtime(agent_image(message="streamed"))
    assert wait_runtime(created["agentRuntimeId"])["status"] == "READY"

    answer = data.invoke_agent_runtime(agentRuntimeArn=created["agentRuntimeArn"], accept="text/event-stream",
                                       payload=b'{"prompt": "hi"}')
    assert answer["contentType"] == "text/event-stream"
    events = [json.loads(line[len(b"data: "):]) for line in answer["response"].iter_lines() if line]
    assert [e["event"] for e in events] == ["start", "message", "end"]
    assert events[1]["data"]["message"] == "streamed"


def test_update_replaces_the_configuration_and_keeps_old_versions(
    control: Any, data: Any, new_runtime: Callable[..., dict[str, Any]],
    wait_runtime: Callable[..., dict[str, Any]], agent_image: Callable[..., str],
    request_for: Callable[..., dict[str, Any]], wait_containers: Callable[..., list[str]],
) -> None:
    first, second = agent_image(message="one"), agent_image(message="two")
    lifecycle = {"idleRuntimeSessionTimeout": 28800, "maxLifetime": 28800}
    created = new_runtime(first, environmentVariables={"AGENT_A": "1", "ABCA_B": "2"}, description="v1",
                          lifecycleConfiguration=lifecycle)
    runtime_id = created["agentRuntimeId"]
    assert wait_runtime(runtime_id)["status"] == "READY"

    updated = control.update_agent_runtime(agentRuntimeId=runtime_id, **request_for(second))
    assert (updated["status"], updated["agentRuntimeVersion"]) == ("UPDATING", "2")
    assert updated["agentRuntimeArn"] == created["agentRuntimeArn"]
    v2 = wait_runtime(runtime_id)
    assert (v2["status"], v2["agentRuntimeVersion"]) == ("READY", "2")
    assert "environmentVariables" not in v2
    assert "description" not in v2
    assert v2["lifecycleConfiguration"] == {"idleRuntimeSessionTimeout": 900, "maxLifetime": 28800}
    assert v2["agentRuntimeArtifact"]["containerConfiguration"]["containerUri"] == second

    v1 = control.get_agent_runtime(agentRuntimeId=runtime_id, agentRuntimeVersion="1")
    assert (v1["agentRuntimeVersion"], v1["status"], v1["description"]) == ("1", "READY", "v1")
    assert v1["environmentVariables"] == {"AGENT_A": "1", "ABCA_B": "2"}
    assert v1["lifecycleConfiguration"] == lifecycle
    assert v1["agentRuntimeArn"] == v2["agentRuntimeArn"] == created["agentRuntimeArn"]

    body = invoke(data, created["agentRuntimeArn"], {"input": {"n": 1}})
    assert (body["message"], body["environment"]) == ("two", {})
    assert wait_containers(runtime_id, ["2"]) == ["2"]


def test_versions_list_with_pagination_and_default_endpoint(
    control: Any, new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str], request_for: Callable[..., dict[str, Any]],
) -> None:
    created = new_runtime(agent_image(message="one"))
    runtime_id = created["agentRuntimeId"]
    wait_runtime(runtime_id)
    control.update_agent_runtime(agentRuntimeId=runtime_id, **request_for(agent_image(message="two")))
    during = control.get_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="DEFAULT")
    assert (during["status"], during["liveVersion"], during["targetVersion"]) == ("UPDATING", "1", "2")
    wait_runtime(runtime_id)

    pages = control.get_paginator("list_agent_runtime_versions").paginate(
        agentRuntimeId=runtime_id, PaginationConfig={"PageSize": 1})
    assert [[(v["agentRuntimeVersion"], v["status"]) for v in p["agentRuntimes"]] for p in pages] == [
        [("1", "READY")], [("2", "READY")]]
    after = control.get_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="DEFAULT")
    assert (after["status"], after["liveVersion"], after["targetVersion"]) == ("READY", "2", "2")
    assert after["agentRuntimeEndpointArn"] == f"{created['agentRuntimeArn']}/runtime-endpoint/DEFAULT"


def test_invoke_by_runtime_id_and_account(
    data: Any, new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str],
) -> None:
    created = new_runtime(agent_image(message="by id"))
    wait_runtime(created["agentRuntimeId"])

    answer = data.invoke_agent_runtime(agentRuntimeArn=created["agentRuntimeId"], accountId="123456789012",
                                       qualifier="DEFAULT", payload=b'{"prompt": "x"}')
    assert json.loads(answer["response"].read())["message"] == "by id"
    with pytest.raises(data.exceptions.ResourceNotFoundException):
        data.invoke_agent_runtime(agentRuntimeArn=created["agentRuntimeArn"], qualifier="nosuch",
                                  payload=b"{}")


def test_delete_version_then_runtime_removes_its_containers(
    control: Any, new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str], request_for: Callable[..., dict[str, Any]],
    wait_containers: Callable[..., list[str]],
) -> None:
    runtime_id = new_runtime(agent_image(message="one"))["agentRuntimeId"]
    wait_runtime(runtime_id)
    with pytest.raises(control.exceptions.ConflictException, match="DEFAULT"):
        control.delete_agent_runtime(agentRuntimeId=runtime_id, agentRuntimeVersion="1")
    control.update_agent_runtime(agentRuntimeId=runtime_id, **request_for(agent_image(message="two")))
    wait_runtime(runtime_id)

    deleted = control.delete_agent_runtime(agentRuntimeId=runtime_id, agentRuntimeVersion="1")
    assert (deleted["status"], deleted["agentRuntimeVersion"]) == ("DELETING", "1")
    with pytest.raises(control.exceptions.ResourceNotFoundException):
        control.get_agent_runtime(agentRuntimeId=runtime_id, agentRuntimeVersion="1")
    assert control.get_agent_runtime(agentRuntimeId=runtime_id)["agentRuntimeVersion"] == "2"

    control.delete_agent_runtime(agentRuntimeId=runtime_id)
    with pytest.raises(control.exceptions.ResourceNotFoundException):
        control.get_agent_runtime(agentRuntimeId=runtime_id)
    assert wait_containers(runtime_id, []) == []


def test_health_reports_runtimes_and_containers(
    emulator: EmulatorServer, new_runtime: Callable[..., dict[str, Any]],
    wait_runtime: Callable[..., dict[str, Any]], agent_image: Callable[..., str],
) -> None:
    def health() -> dict[str, Any]:
        with urllib.request.urlopen(f"{emulator.url}/_emulator/health", timeout=5) as answer:
            assert answer.status == 200
            return dict(json.loads(answer.read()))

    before = health()
    wait_runtime(new_runtime(agent_image())["agentRuntimeId"])
    after = health()
    assert after == {"status": "ok", "runtimes": before["runtimes"] + 1,
                     "containers": before["containers"] + 1, "sessions": before["sessions"],
                     "containerErrors": "wrapped"}
