"""InvokeAgentRuntime and StopRuntimeSession through the emulator to a stand-in agent, with stock boto3."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ResponseStreamingError
from tests.support.standin import ROLE, URI, StandIn, StandInRunner, emulator_with_runtime, stand_in_agent

from abca_deploy.sandbox.emulator.runner import ContainerSpec
from abca_deploy.sandbox.emulator.sessions import Sessions

if TYPE_CHECKING:
    from collections.abc import Iterator

    from abca_deploy.sandbox.emulator.server import EmulatorServer

S1, S2 = "s" * 40, "t" * 40
NO_RETRIES = Config(retries={"total_max_attempts": 1}, read_timeout=10)


@pytest.fixture
def runner() -> Iterator[StandInRunner]:
    with stand_in_agent() as port:
        yield StandInRunner(port)


@pytest.fixture
def form() -> str:
    """The emulator's container-error form (tests parametrize it)."""
    return "wrapped"


@pytest.fixture
def emulator(runner: StandInRunner, form: str) -> Iterator[tuple[EmulatorServer, str]]:
    """(server, runtime ARN) of a READY runtime served by the stand-in."""
    with emulator_with_runtime(runner, form) as started:
        yield started


@pytest.fixture
def data(emulator: tuple[EmulatorServer, str]) -> Any:
    return boto3.client("bedrock-agentcore", endpoint_url=emulator[0].url, config=NO_RETRIES)


@pytest.fixture
def arn(emulator: tuple[EmulatorServer, str]) -> str:
    return emulator[1]


def runtime_id(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


def test_payload_and_headers_reach_the_container(data: Any, arn: str) -> None:
    answer = data.invoke_agent_runtime(agentRuntimeArn=arn, payload=b'{"mode": "hi"}',
                                       runtimeSessionId=S1, contentType="application/json",
                                       accept="application/json", traceId="Root=1-abc")
    assert (answer["statusCode"], answer["contentType"], answer["runtimeSessionId"]) == (
        200, "application/json", S1)
    assert json.loads(answer["response"].read()) == {"ok": "hi"}
    [seen] = StandIn.seen
    assert (seen["path"], seen["body"]) == ("/invocations", b'{"mode": "hi"}')
    assert {k: seen["headers"][k] for k in ("Content-Type", "Accept", "X-Amzn-Trace-Id")} == {
        "Content-Type": "application/json", "Accept": "application/json", "X-Amzn-Trace-Id": "Root=1-abc"}
    assert seen["headers"]["X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"] == S1
    assert "Authorization" not in seen["headers"]


def test_event_streams_arrive_as_sent(data: Any, arn: str) -> None:
    answer = data.invoke_agent_runtime(agentRuntimeArn=arn, payload=b'{"mode": "stream"}')
    assert answer["contentType"] == "text/event-stream"
    assert [line for line in answer["response"].iter_lines() if line] == [b"data: 0", b"data: 1", b"data: 2"]


@pytest.mark.parametrize(("mode", "status"), [("reject", 403), ("incomplete", 400), ("fail", 500)])
def test_wrapped_form_reports_a_container_error_as_424_without_its_body(
    emulator: tuple[EmulatorServer, str], mode: str, status: int,
) -> None:
    data = boto3.client("bedrock-agentcore", endpoint_url=emulator[0].url,
                        config=Config(retries={"mode": "standard"}))
    with pytest.raises(data.exceptions.RuntimeClientError) as caught:
        data.invoke_agent_runtime(agentRuntimeArn=emulator[1], payload=json.dumps({"mode": mode}).encode())
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["Error"]["Message"].startswith(
        f"Received error ({status}) from runtime. Please check your CloudWatch logs for more information.")
    assert "refused" not in error["Error"]["Message"]  # AWS drops the container's body
    assert len(StandIn.seen) == 1  # botocore does not retry a 424


@pytest.mark.parametrize("form", ["passthrough"])
@pytest.mark.parametrize(("mode", "status", "code"), [("reject", 403, "NOPE"),
                                                      ("incomplete", 400, "TASK_RECORD_INCOMPLETE"),
                                                      ("fail", 500, "500")])
def test_passthrough_form_returns_the_containers_status_and_body(
    data: Any, arn: str, mode: str, status: int, code: str,
) -> None:
    with pytest.raises(ClientError) as caught:
        data.invoke_agent_runtime(agentRuntimeArn=arn, payload=json.dumps({"mode": mode}).encode())
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["Error"]["Code"] == code
    assert "x-amzn-errortype" not in error["ResponseMetadata"]["HTTPHeaders"]


@pytest.mark.parametrize("form", ["wrapped", "passthrough"])
def test_a_dead_session_container_is_424_then_the_session_starts_afresh(
    data: Any, arn: str, runner: StandInRunner, emulator: tuple[EmulatorServer, str],
) -> None:
    data.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId=S1, payload=b"{}")
    runner.down = True
    with pytest.raises(data.exceptions.RuntimeClientError, match="exit code 137"):
        data.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId=S1, payload=b"{}")
    assert emulator[0].store.sessions.count() == 0
    started = len(runner.started)
    data.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId=S1, payload=b"{}")
    assert runner.started[started:] == [(runtime_id(arn), "1", S1)]  # a fresh container for the session

    runner.port = 9  # nothing listens there
    with pytest.raises(data.exceptions.RuntimeClientError) as caught:
        data.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId=S1, payload=b"{}")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert "did not answer" in caught.value.response["Error"]["Message"]
    assert "exit code 1" in caught.value.response["Error"]["Message"]
    assert emulator[0].store.sessions.count() == 0


def test_a_body_cut_short_fails_the_read_instead_of_hanging(data: Any, arn: str) -> None:
    answer = data.invoke_agent_runtime(agentRuntimeArn=arn, payload=b'{"mode": "truncate"}')
    started = time.monotonic()
    with pytest.raises(ResponseStreamingError):
        answer["response"].read()
    assert time.monotonic() - started < 5


def test_each_session_has_its_own_container_and_stopping_releases_it(
    data: Any, arn: str, runner: StandInRunner, emulator: tuple[EmulatorServer, str],
) -> None:
    rid = runtime_id(arn)
    assert runner.containers == {(rid, "1")}  # the readiness check's container, warm
    data.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId=S1, payload=b"{}")
    assert runner.containers == {(rid, "1", S1)}  # the first session took it over
    data.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId=S1, payload=b"{}")
    data.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId=S2, payload=b"{}")
    assert runner.containers == {(rid, "1", S1), (rid, "1", S2)}
    assert emulator[0].health()["sessions"] == 2

    token = "c" * 40
    stopped = data.stop_runtime_session(agentRuntimeArn=arn, runtimeSessionId=S1, clientToken=token)
    assert (stopped["statusCode"], stopped["runtimeSessionId"]) == (200, S1)
    assert runner.containers == {(rid, "1", S2)}
    again = data.stop_runtime_session(agentRuntimeArn=arn, runtimeSessionId=S1, clientToken=token)
    assert (again["statusCode"], again["runtimeSessionId"]) == (200, S1)  # same token, same answer
    with pytest.raises(data.exceptions.ResourceNotFoundException, match="not found or already terminated"):
        data.stop_runtime_session(agentRuntimeArn=arn, runtimeSessionId=S1)

    data.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId=S1, payload=b"{}")
    assert runner.started.count((rid, "1", S1)) == 1  # a new session: a cold start, not the warm container
    assert (rid, "1", S1) in runner.containers
    assert emulator[0].health()["sessions"] == 2


def stop_raw(server: EmulatorServer, arn: str, session: str, query: str = "") -> tuple[int, dict[str, Any]]:
    path = f"/runtimes/{urllib.parse.quote(arn, safe='')}/stopruntimesession{query}"
    request = urllib.request.Request(f"{server.url}{path}", data=b"{}", method="POST",
                                     headers={"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": session})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, dict(json.loads(answer.read()))
    except urllib.error.HTTPError as error:
        return error.code, {"type": error.headers["x-amzn-ErrorType"], **json.loads(error.read())}


def test_stop_checks_its_input_like_aws(emulator: tuple[EmulatorServer, str]) -> None:
    server, arn = emulator
    status, body = stop_raw(server, arn, "short")
    assert (status, body["type"]) == (400, "ValidationException")
    assert "at 'runtimeSessionId' failed to satisfy constraint: Member must have length greater than or " \
           "equal to 33" in body["message"]
    assert stop_raw(server, arn, S1, "?qualifier=nosuch")[1]["type"] == "ResourceNotFoundException"
    other = arn.replace("123456789012", "210987654321")
    assert stop_raw(server, other, S1)[1]["type"] == "ResourceNotFoundException"
    assert stop_raw(server, arn, S1) == (404, {
        "type": "ResourceNotFoundException",
        "message": f"Session {S1} not found or already terminated (runtime {runtime_id(arn)}, endpoint "
                   "DEFAULT)."})


def test_a_session_ends_when_its_endpoint_serves_another_version(
    data: Any, arn: str, runner: StandInRunner, emulator: tuple[EmulatorServer, str],
) -> None:
    rid = runtime_id(arn)
    data.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId=S1, payload=b"{}")
    control = boto3.client("bedrock-agentcore-control", endpoint_url=emulator[0].url)
    control.update_agent_runtime(agentRuntimeId=rid, roleArn=ROLE, agentRuntimeArtifact={
        "containerConfiguration": {"containerUri": URI.replace(":v1", ":v2")}})
    deadline = time.monotonic() + 10
    while (rid, "1", S1) in runner.containers:
        assert time.monotonic() < deadline, runner.containers
        time.sleep(0.02)
    assert emulator[0].store.sessions.count() == 0
    data.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId=S1, payload=b"{}")
    assert runner.containers == {(rid, "2", S1)}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sessions_end_after_their_idle_timeout_or_max_lifetime(runner: StandInRunner) -> None:
    clock = Clock()
    sessions = Sessions(runner, clock)
    spec = ContainerSpec("image", idle_timeout=60, max_lifetime=600)
    a, b = ("rt", "DEFAULT", S1), ("rt", "DEFAULT", S2)
    sessions.enter(a, ("rt", "1"), spec)
    sessions.leave(a)
    sessions.enter(b, ("rt", "1"), spec)  # still busy: an answer is streaming
    clock.now += 59
    sessions.reap()
    assert sessions.count() == 2
    clock.now += 1
    sessions.reap()
    assert runner.containers == {("rt", "1", S2)}  # idle for 60 s: ended; busy: kept
    clock.now += 540
    sessions.reap()
    assert (sessions.count(), runner.containers) == (0, set())  # maxLifetime ends even a busy session
