"""InvokeAgentRuntime through the emulator to a stand-in container (a local HTTP server), with stock boto3."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import TYPE_CHECKING, Any, ClassVar

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ResponseStreamingError

from abca_deploy.sandbox.emulator.runner import ContainerDown, Target
from abca_deploy.sandbox.emulator.server import EmulatorServer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from abca_deploy.sandbox.emulator.runner import ContainerSpec, Key

SESSION = "s" * 40
URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/abca/agent:v1"


class Agent(BaseHTTPRequestHandler):
    """Records what reached it; the path of the payload picks the answer."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Agent.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        mode = json.loads(body).get("mode")
        if mode == "stream":  # no Content-Length: chunked, each event flushed as it happens
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for n in range(3):
                event = f"data: {n}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        if mode == "truncate":  # promises 100 bytes, sends 10, hangs up (a crash mid-answer)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b'{"partial"')
            self.close_connection = True
            return
        status = {"fail": 500, "reject": 403}.get(mode, 200)
        data = json.dumps({"code": "NOPE", "message": "refused"} if status == 403 else {"ok": mode}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class StandInRunner:
    """Every version is 'healthy' at ``port``; ``down`` makes the next ensure report a dead container."""

    def __init__(self, port: int) -> None:
        self.port, self.down = port, False

    def prepare(self, key: Key, spec: ContainerSpec) -> None:
        pass

    def ensure(self, key: Key, spec: ContainerSpec, *, revive: bool) -> Target:
        if self.down:
            self.down = False
            msg = "The container agent-1 is not running (exit code 137)."
            raise ContainerDown(msg)
        return Target(self.port, "agent-1", spec.path)

    def failure(self, key: Key) -> str:
        return "The container agent-1 is not running (exit code 1)."

    def retain(self, keys: set[Key]) -> None:
        pass

    def close(self) -> None:
        pass

    def count(self) -> int:
        return 1


@pytest.fixture
def agent() -> Iterator[int]:
    Agent.seen.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Agent)
    Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def runner(agent: int) -> StandInRunner:
    return StandInRunner(agent)


@pytest.fixture
def runtime(runner: StandInRunner) -> Iterator[tuple[Any, str]]:
    """(data-plane client, runtime ARN) for a READY runtime served by the stand-in."""
    server = EmulatorServer(registry="127.0.0.1:1", runner=runner)
    server.start()
    control = boto3.client("bedrock-agentcore-control", endpoint_url=server.url)
    created = control.create_agent_runtime(
        agentRuntimeName="demo", roleArn="arn:aws:iam::123456789012:role/r",
        agentRuntimeArtifact={"containerConfiguration": {"containerUri": URI}})
    while control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])["status"] != "READY":
        time.sleep(0.02)
    data = boto3.client("bedrock-agentcore", endpoint_url=server.url,
                        config=Config(retries={"total_max_attempts": 1}, read_timeout=10))
    yield data, created["agentRuntimeArn"]
    server.stop()


def test_payload_and_headers_reach_the_container(runtime: tuple[Any, str]) -> None:
    data, arn = runtime
    answer = data.invoke_agent_runtime(agentRuntimeArn=arn, payload=b'{"mode": "hi"}',
                                       runtimeSessionId=SESSION, contentType="application/json",
                                       accept="application/json", traceId="Root=1-abc")
    assert (answer["statusCode"], answer["contentType"], answer["runtimeSessionId"]) == (
        200, "application/json", SESSION)
    assert json.loads(answer["response"].read()) == {"ok": "hi"}
    [seen] = Agent.seen
    assert (seen["path"], seen["body"]) == ("/invocations", b'{"mode": "hi"}')
    assert {k: seen["headers"][k] for k in ("Content-Type", "Accept", "X-Amzn-Trace-Id")} == {
        "Content-Type": "application/json", "Accept": "application/json", "X-Amzn-Trace-Id": "Root=1-abc"}
    assert seen["headers"]["X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"] == SESSION
    assert "Authorization" not in seen["headers"]


def test_event_streams_arrive_as_sent(runtime: tuple[Any, str]) -> None:
    data, arn = runtime
    answer = data.invoke_agent_runtime(agentRuntimeArn=arn, payload=b'{"mode": "stream"}')
    assert answer["contentType"] == "text/event-stream"
    assert [line for line in answer["response"].iter_lines() if line] == [b"data: 0", b"data: 1", b"data: 2"]


def test_container_4xx_is_passed_through(runtime: tuple[Any, str]) -> None:
    data, arn = runtime
    with pytest.raises(ClientError) as caught:
        data.invoke_agent_runtime(agentRuntimeArn=arn, payload=b'{"mode": "reject"}')
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert caught.value.response["Error"] == {"Code": "NOPE", "Message": "refused"}


def test_container_5xx_is_424(runtime: tuple[Any, str]) -> None:
    data, arn = runtime
    with pytest.raises(data.exceptions.RuntimeClientError, match=r"Received error \(500\) from runtime"):
        data.invoke_agent_runtime(agentRuntimeArn=arn, payload=b'{"mode": "fail"}')
    assert len(Agent.seen) == 1  # 424 is not retried


def test_container_down_or_unreachable_is_424(runtime: tuple[Any, str], runner: StandInRunner) -> None:
    data, arn = runtime
    runner.down = True
    with pytest.raises(data.exceptions.RuntimeClientError, match="exit code 137"):
        data.invoke_agent_runtime(agentRuntimeArn=arn, payload=b"{}")
    runner.port = 9  # nothing listens there
    with pytest.raises(data.exceptions.RuntimeClientError) as caught:
        data.invoke_agent_runtime(agentRuntimeArn=arn, payload=b"{}")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert "did not answer" in caught.value.response["Error"]["Message"]
    assert "exit code 1" in caught.value.response["Error"]["Message"]


def test_a_body_cut_short_fails_the_read_instead_of_hanging(runtime: tuple[Any, str]) -> None:
    data, arn = runtime
    answer = data.invoke_agent_runtime(agentRuntimeArn=arn, payload=b'{"mode": "truncate"}')
    started = time.monotonic()
    with pytest.raises(ResponseStreamingError):
        answer["response"].read()
    assert time.monotonic() - started < 5
