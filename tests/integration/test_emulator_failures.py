"""Versions that fail their readiness check, conflicts while updating, and 424 when a container is down."""

from __future__ import annotations

import json
import platform
import time
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.sandbox.emulator.server import EmulatorServer

pytestmark = pytest.mark.docker

MISSING = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca-test/missing:nope"
EXITS = ["python3", "-c", "import sys; print('boom: no config', flush=True); sys.exit(3)"]
HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
NO_PING = ["python3", "-m", "http.server", "8080"]  # answers GET /ping with 404
SESSION = "session-0000000000-0000000000-0000000000"


def test_missing_image_fails_the_update_and_default_keeps_serving(
    control: Any, data: Any, new_runtime: Callable[..., dict[str, Any]],
    wait_runtime: Callable[..., dict[str, Any]], agent_image: Callable[..., str],
    request_for: Callable[..., dict[str, Any]],
) -> None:
    created = new_runtime(agent_image(message="good"))
    runtime_id = created["agentRuntimeId"]
    wait_runtime(runtime_id)

    control.update_agent_runtime(agentRuntimeId=runtime_id, **request_for(MISSING))
    failed = wait_runtime(runtime_id)
    assert (failed["status"], failed["agentRuntimeVersion"]) == ("UPDATE_FAILED", "2")
    assert MISSING in failed["failureReason"]
    assert "could not be pulled" in failed["failureReason"]
    default = control.get_agent_runtime_endpoint(agentRuntimeId=runtime_id, endpointName="DEFAULT")
    assert (default["status"], default["liveVersion"]) == ("READY", "1")
    answer = data.invoke_agent_runtime(agentRuntimeArn=created["agentRuntimeArn"], payload=b'{"prompt": "x"}')
    assert json.loads(answer["response"].read())["message"] == "good"

    control.update_agent_runtime(agentRuntimeId=runtime_id, **request_for(agent_image(message="fixed")))
    fixed = wait_runtime(runtime_id)
    assert (fixed["status"], fixed["agentRuntimeVersion"]) == ("READY", "3")


def test_missing_image_fails_the_create(
    control: Any, data: Any, new_runtime: Callable[..., dict[str, Any]],
    wait_runtime: Callable[..., dict[str, Any]],
) -> None:
    created = new_runtime(MISSING)
    failed = wait_runtime(created["agentRuntimeId"])
    assert failed["status"] == "CREATE_FAILED"
    assert MISSING in failed["failureReason"]
    default = control.get_agent_runtime_endpoint(agentRuntimeId=created["agentRuntimeId"],
                                                 endpointName="DEFAULT")
    assert default["status"] == "CREATE_FAILED"
    assert "liveVersion" not in default
    with pytest.raises(data.exceptions.ResourceNotFoundException, match="serves no version"):
        data.invoke_agent_runtime(agentRuntimeArn=created["agentRuntimeArn"], payload=b"{}")


def test_container_that_exits_fails_with_exit_code_and_logs(
    new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str], agent_containers: Callable[..., list[Any]],
) -> None:
    created = new_runtime(agent_image(cmd=EXITS))
    failed = wait_runtime(created["agentRuntimeId"])
    assert failed["status"] == "CREATE_FAILED"
    assert "exit code 3" in failed["failureReason"]
    assert "boom: no config" in failed["failureReason"]
    assert agent_containers(created["agentRuntimeId"]) == []


def test_ping_that_never_answers_200_fails(
    emulator_factory: Callable[..., EmulatorServer], agent_image: Callable[..., str],
    request_for: Callable[..., dict[str, Any]], agent_containers: Callable[..., list[Any]],
) -> None:
    import boto3

    server = emulator_factory(ping_timeout=3.0)
    control = boto3.client("bedrock-agentcore-control", endpoint_url=server.url)
    created = control.create_agent_runtime(agentRuntimeName="noping", **request_for(agent_image(cmd=NO_PING)))
    failed = control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])
    deadline = time.monotonic() + 60
    while failed["status"] == "CREATING" and time.monotonic() < deadline:
        time.sleep(0.2)
        failed = control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])
    assert failed["status"] == "CREATE_FAILED"
    assert "did not answer GET /ping with HTTP 200 within 3s (last: HTTP 404)" in failed["failureReason"]
    assert agent_containers(created["agentRuntimeId"]) == []


def test_update_while_updating_is_a_conflict(
    control: Any, new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str], request_for: Callable[..., dict[str, Any]],
) -> None:
    first, second = agent_image(message="one"), agent_image(message="two")
    created = new_runtime(first)
    with pytest.raises(control.exceptions.ConflictException, match="CREATING"):
        control.update_agent_runtime(agentRuntimeId=created["agentRuntimeId"], **request_for(second))
    wait_runtime(created["agentRuntimeId"])

    control.update_agent_runtime(agentRuntimeId=created["agentRuntimeId"], **request_for(second))
    with pytest.raises(control.exceptions.ConflictException, match="UPDATING"):
        control.update_agent_runtime(agentRuntimeId=created["agentRuntimeId"], **request_for(first))
    assert wait_runtime(created["agentRuntimeId"])["agentRuntimeVersion"] == "2"


def test_a_dead_session_container_is_424_then_the_session_starts_afresh(
    data: Any, new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]],
    agent_image: Callable[..., str], agent_containers: Callable[..., list[Any]],
) -> None:
    created = new_runtime(agent_image(message="phoenix"))
    wait_runtime(created["agentRuntimeId"])
    invoke = {"agentRuntimeArn": created["agentRuntimeArn"], "runtimeSessionId": SESSION,
              "payload": b'{"prompt": "x"}'}
    data.invoke_agent_runtime(**invoke)
    [container] = agent_containers(created["agentRuntimeId"])  # the session took over the warm container
    container.kill()

    with pytest.raises(ClientError) as caught:
        data.invoke_agent_runtime(**invoke)
    error = caught.value.response
    assert error["Error"]["Code"] == "RuntimeClientError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert f"The container {container.name} is not running (exit code 137" in error["Error"]["Message"]

    answer = data.invoke_agent_runtime(**invoke)
    assert json.loads(answer["response"].read())["message"] == "phoenix"
    [fresh] = agent_containers(created["agentRuntimeId"])
    assert fresh.id != container.id
    assert fresh.labels["abca-deploy.sandbox.session"] == SESSION


def test_stop_runtime_session_removes_the_sessions_container(
    data: Any, emulator: EmulatorServer, new_runtime: Callable[..., dict[str, Any]],
    wait_runtime: Callable[..., dict[str, Any]], agent_image: Callable[..., str],
    agent_containers: Callable[..., list[Any]],
) -> None:
    created = new_runtime(agent_image(message="sessions"))
    wait_runtime(created["agentRuntimeId"])
    arn, other = created["agentRuntimeArn"], SESSION.replace("0", "1")
    for session in (SESSION, other):
        data.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId=session, payload=b'{"prompt": "x"}')
    containers = agent_containers(created["agentRuntimeId"])
    sessions = {c.labels.get("abca-deploy.sandbox.session") for c in containers}
    assert sessions == {None, other}  # the first took over the warm container (version labels only)

    data.stop_runtime_session(agentRuntimeArn=arn, runtimeSessionId=other)
    data.stop_runtime_session(agentRuntimeArn=arn, runtimeSessionId=SESSION)
    assert agent_containers(created["agentRuntimeId"]) == []
    assert emulator.store.sessions.count(created["agentRuntimeId"]) == 0
    with pytest.raises(data.exceptions.ResourceNotFoundException):
        data.stop_runtime_session(agentRuntimeArn=arn, runtimeSessionId=SESSION)


@pytest.mark.skipif(HOST_ARCH == "arm64", reason="this machine can run linux/arm64 images")
def test_arm64_image_fails_with_a_clear_reason(
    new_runtime: Callable[..., dict[str, Any]], wait_runtime: Callable[..., dict[str, Any]], arm64_image: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    failed = wait_runtime(new_runtime(arm64_image)["agentRuntimeId"])
    assert failed["status"] == "CREATE_FAILED"
    assert (f"The image is linux/arm64 and this machine is linux/{HOST_ARCH}, which cannot run it"
            in failed["failureReason"])
    assert not [r for r in caplog.records if "AWS AgentCore runs linux/arm64 images only" in r.getMessage()]


def test_host_architecture_image_is_accepted_with_one_warning(
    emulator_factory: Callable[..., EmulatorServer], agent_image: Callable[..., str],
    request_for: Callable[..., dict[str, Any]], caplog: pytest.LogCaptureFixture,
) -> None:
    import boto3

    control = boto3.client("bedrock-agentcore-control", endpoint_url=emulator_factory().url)
    uri = agent_image(message="amd64")
    created = control.create_agent_runtime(agentRuntimeName="hostarch", **request_for(uri))
    deadline = time.monotonic() + 60
    while control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])["status"] == "CREATING":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    control.update_agent_runtime(agentRuntimeId=created["agentRuntimeId"], **request_for(uri))
    while control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])["status"] == "UPDATING":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])["status"] == "READY"
    warnings = [r.getMessage() for r in caplog.records if "runs linux/arm64 images only" in r.getMessage()]
    assert warnings == [f"{uri} is a linux/{HOST_ARCH} image: AWS AgentCore runs linux/arm64 images only, "
                        "so AWS would reject it; the emulator accepts it because this machine runs "
                        f"linux/{HOST_ARCH}."]
