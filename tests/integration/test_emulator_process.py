"""``python -m abca_deploy.sandbox.emulator`` serves until SIGTERM, then removes the containers it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from tests.support.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Callable

    from abca_deploy.sandbox.registry import Registry

pytestmark = pytest.mark.docker

INSTANCE = "pytest-process"


def _health(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{url}/_emulator/health", timeout=2) as answer:
            return dict(json.loads(answer.read()))
    except (urllib.error.URLError, OSError):
        return None


def test_module_entry_point_serves_and_cleans_up_on_sigterm(
    registry: Registry, agent_image: Callable[..., str], request_for: Callable[..., dict[str, Any]],
    agent_containers: Callable[..., list[Any]],
) -> None:
    import boto3

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "abca_deploy.sandbox.emulator", "--host", "127.0.0.1", "--port", str(port),
            "--registry", registry.host, "--instance", INSTANCE, "--ping-timeout", "30"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1",
                                 "ABCA_CONTAINER_ERRORS": "passthrough"})
    try:
        deadline = time.monotonic() + 30
        while _health(url) is None:
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert _health(url) == {"status": "ok", "runtimes": 0, "containers": 0, "sessions": 0,
                                "containerErrors": "passthrough"}

        control = boto3.client("bedrock-agentcore-control", endpoint_url=url)
        created = control.create_agent_runtime(agentRuntimeName="proc", **request_for(agent_image()))
        while control.get_agent_runtime(agentRuntimeId=created["agentRuntimeId"])["status"] == "CREATING":
            assert time.monotonic() < deadline + 60
            time.sleep(0.2)
        assert len(agent_containers(created["agentRuntimeId"], instance=INSTANCE)) == 1
        data = boto3.client("bedrock-agentcore", endpoint_url=url)
        with pytest.raises(ClientError) as caught:  # passthrough: the agent's own 400 and body
            data.invoke_agent_runtime(agentRuntimeArn=created["agentRuntimeArn"], payload=b'{"input":{}}')
        assert caught.value.response["Error"]["Code"] == "TASK_RECORD_INCOMPLETE"
        assert _health(url)["sessions"] == 1  # type: ignore[index]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert out == b""
    assert f"AgentCore emulator listening on {url} (container errors: passthrough)" in err.decode()
    assert agent_containers(instance=INSTANCE) == []
