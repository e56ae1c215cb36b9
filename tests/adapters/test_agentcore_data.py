"""AgentCoreData over the real wire: stock boto3 -> the AgentCore emulator -> a stand-in agent, in both of the
forms a container's error may take (wrapped in a 424 RuntimeClientError, or passed through)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config
from tests.support.standin import StandInRunner, emulator_with_runtime, stand_in_agent

from abca_deploy.aws.agentcore import AgentCoreData
from abca_deploy.aws.invocation import Origin
from abca_deploy.errors import AbcaError

if TYPE_CHECKING:
    from collections.abc import Iterator

SESSION = "abca-deploy-smoke-" + "0" * 32
Plane = tuple[AgentCoreData, str, StandInRunner]


@pytest.fixture(params=["wrapped", "passthrough"])
def plane(request: pytest.FixtureRequest) -> Iterator[Plane]:
    """(adapter, runtime ARN, runner) against an emulator using the parametrized form."""
    with stand_in_agent() as port:
        runner = StandInRunner(port)
        with emulator_with_runtime(runner, request.param) as (server, arn):
            client = boto3.client("bedrock-agentcore", endpoint_url=server.url,
                                  config=Config(retries={"total_max_attempts": 1}))
            yield AgentCoreData(client), arn, runner


def test_the_containers_400_is_read_in_either_form(plane: Plane) -> None:
    data, arn, _ = plane
    got = data.invoke(arn, b'{"mode": "incomplete"}', qualifier=None, session_id=SESSION)
    assert got.status == 400
    assert got.reached_container
    if got.origin is Origin.WRAPPED:
        assert got.error_code == "RuntimeClientError"
        assert got.body.startswith("Received error (400) from runtime.")
    else:
        assert got.origin is Origin.CONTAINER
        assert got.body == '{"code": "TASK_RECORD_INCOMPLETE", "message": "input is empty"}'


def test_a_5xx_and_an_event_stream_error_are_read_in_either_form(
    plane: Plane,
) -> None:
    data, arn, _ = plane
    failed = data.invoke(arn, b'{"mode": "fail"}', qualifier=None, session_id=SESSION)
    assert (failed.status, failed.reached_container) == (500, True)
    streamed = data.invoke(arn, b'{"mode": "stream-error"}', qualifier=None, session_id=SESSION)
    assert (streamed.status, streamed.reached_container) == (400, True)
    if streamed.origin is Origin.CONTAINER:
        assert streamed.body == '{"code": "BAD_EVENT"}'


def test_success_bodies_json_and_event_stream(plane: Plane) -> None:
    data, arn, _ = plane
    assert data.invoke(arn, b'{"mode": "hi"}', qualifier=None, session_id=SESSION).body == '{"ok": "hi"}'
    streamed = data.invoke(arn, b'{"mode": "stream"}', qualifier=None, session_id=SESSION)
    assert (streamed.status, streamed.content_type, streamed.body) == (200, "text/event-stream", "0\n1\n2")


def test_agentcores_own_errors_are_not_the_containers(plane: Plane) -> None:
    data, arn, runner = plane
    missing = data.invoke(arn, b"{}", qualifier="nosuch", session_id=SESSION)
    assert (missing.status, missing.origin, missing.error_code) == (404, Origin.AGENTCORE,
                                                                    "ResourceNotFoundException")
    data.invoke(arn, b"{}", qualifier=None, session_id=SESSION)
    runner.down = True
    crashed = data.invoke(arn, b"{}", qualifier=None, session_id=SESSION)
    assert (crashed.status, crashed.origin) == (424, Origin.AGENTCORE)
    assert crashed.error_code == "RuntimeClientError"
    assert "exit code 137" in crashed.body


def test_stop_session_stops_once_then_reports_it_gone(plane: Plane) -> None:
    data, arn, runner = plane
    data.invoke(arn, b"{}", qualifier=None, session_id=SESSION)
    assert any(len(key) == 3 for key in runner.containers)
    assert data.stop_session(arn, SESSION, qualifier=None) is True
    assert not any(len(key) == 3 for key in runner.containers)
    assert data.stop_session(arn, SESSION, qualifier="DEFAULT") is False
    with pytest.raises(AbcaError, match="bedrock-agentcore:StopRuntimeSession failed"):
        data.stop_session(arn, "short", qualifier=None)
